/* kb_export.c - placeholder; being written. */
