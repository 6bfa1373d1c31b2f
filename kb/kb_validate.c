/* kb_validate.c - placeholder; being written. */
