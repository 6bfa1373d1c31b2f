/* kb_revisions.c - placeholder; being written. */
