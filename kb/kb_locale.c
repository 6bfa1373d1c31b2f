/* kb_locale.c - placeholder; being written. */
