/* api_kb.c - placeholder; being written. */
