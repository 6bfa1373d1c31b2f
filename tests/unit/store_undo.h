/*
 * store_undo.h - SQL that takes a test database back to an older schema,
 * for the migration tests (test_store_web.c, test_kb_text.c). Newest
 * first: undoing 7 needs 8 undone before it.
 */
#ifndef SB_TEST_STORE_UNDO_H
#define SB_TEST_STORE_UNDO_H

/* Migration 11: the channels' outbox and queued turns. */
#define UNDO_MIGRATION_11 "DROP TABLE outbox; DROP TABLE inbound_turns;"

/* Migration 10: contacts' public ids and every agent a conversation had
 * (after 11). */
#define UNDO_MIGRATION_10                                                                          \
    UNDO_MIGRATION_11                                                                              \
    "DROP TRIGGER contacts_public_id; DROP INDEX contacts_public_id;"                              \
    "ALTER TABLE contacts DROP COLUMN public_id;"                                                  \
    "DROP TRIGGER conversation_agents_assign; DROP TRIGGER conversation_agents_insert;"            \
    "DROP TABLE conversation_agents;"

/* Migration 9: the articles shown per conversation, and a help-center
 * vote's page view and voter (after 10). */
#define UNDO_MIGRATION_9                                                                           \
    UNDO_MIGRATION_10                                                                              \
    "DROP TABLE kb_shown; DROP INDEX kb_feedback_view;"                                            \
    "ALTER TABLE kb_feedback DROP COLUMN view;"                                                    \
    "ALTER TABLE kb_feedback DROP COLUMN voter;"

/* Migration 8: kb_feedback back to the CHECK without 'agent' (after 9). */
#define UNDO_MIGRATION_8                                                                           \
    UNDO_MIGRATION_9                                                                               \
    "CREATE TABLE kb_feedback_old("                                                                \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,"                  \
    "  source TEXT NOT NULL CHECK(source IN ('bot', 'help')),"                                     \
    "  helpful INTEGER NOT NULL CHECK(helpful IN (0, 1)),"                                         \
    "  conversation_id INTEGER,"                                                                   \
    "  created_at INTEGER NOT NULL);"                                                              \
    "INSERT INTO kb_feedback_old SELECT * FROM kb_feedback WHERE source != 'agent';"               \
    "DROP TABLE kb_feedback;"                                                                      \
    "ALTER TABLE kb_feedback_old RENAME TO kb_feedback;"                                           \
    "CREATE INDEX kb_feedback_article ON kb_feedback(article_id);"                                 \
    "ALTER TABLE conversations DROP COLUMN resolved_article;"

/* Migration 7: live agents' tables and conversation columns (after 8). */
#define UNDO_MIGRATION_7                                                                           \
    UNDO_MIGRATION_8                                                                               \
    "DROP INDEX conversations_assignee; DROP INDEX conversations_offered;"                         \
    "DROP TABLE teams; DROP TABLE team_members; DROP TABLE agent_profiles;"                        \
    "DROP TABLE routing_rules; DROP TABLE sla_policies; DROP TABLE notes;"                         \
    "DROP TABLE canned_responses; DROP TABLE agent_reads; DROP TABLE offer_skips;"                 \
    "ALTER TABLE conversations DROP COLUMN skills;"                                                \
    "ALTER TABLE conversations DROP COLUMN offered_to;"                                            \
    "ALTER TABLE conversations DROP COLUMN offer_expires_at;"                                      \
    "ALTER TABLE conversations DROP COLUMN last_assignee;"                                         \
    "ALTER TABLE conversations DROP COLUMN first_response_due;"                                    \
    "ALTER TABLE conversations DROP COLUMN first_response_at;"                                     \
    "ALTER TABLE conversations DROP COLUMN next_response_due;"                                     \
    "ALTER TABLE conversations DROP COLUMN resolution_due;"                                        \
    "ALTER TABLE conversations DROP COLUMN first_response_warn;"                                   \
    "ALTER TABLE conversations DROP COLUMN next_response_warn;"                                    \
    "ALTER TABLE conversations DROP COLUMN resolution_warn;"                                       \
    "ALTER TABLE conversations DROP COLUMN sla_warned;"                                            \
    "ALTER TABLE conversations DROP COLUMN sla_breached;"                                          \
    "ALTER TABLE conversations DROP COLUMN csat;"                                                  \
    "ALTER TABLE conversations DROP COLUMN resolved_at;"                                           \
    "ALTER TABLE conversations DROP COLUMN resolved_by;"                                           \
    "ALTER TABLE conversations DROP COLUMN reopen_count;"

#endif
