/* kb_diff.c - placeholder; being written. */
