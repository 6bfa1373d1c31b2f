/* kb_import_faq.c - placeholder; being written. */
