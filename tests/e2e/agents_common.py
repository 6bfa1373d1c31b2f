"""Shared set-up of the live-agent tests (test_agents_routing.py, test_agents_sla.py): a server
with the test clock, agents with profiles and teams written into the store before it starts."""

import json
import os
import sqlite3
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ASK_HUMAN = {"en": "I want to talk to a human", "pt-BR": "falar com um atendente"}
PASSWORD = "correct horse battery staple"


def clock_server(agents, teams=(), rules=(), config=None):
    """agents: list of dicts {email, teams, capacity, skills, status}. teams: dicts for the teams
    table (id plus optional hours, holidays, timezone, require_language, outside_hours).
    rules: (position, match, team, priority, skills)."""
    cfg = {"session_idle_s": 30 * 86400, "session_max_s": 365 * 86400}
    cfg.update(config or {})
    users = [{"email": a["email"], "password": PASSWORD, "roles": a.get("roles", ("agent",)),
              "name": a["email"].split("@")[0]} for a in agents]

    def before(server):
        db = sqlite3.connect(os.path.join(server.data, "switchboard.db"))
        for t in teams:
            db.execute("INSERT OR REPLACE INTO teams(id, name, timezone, hours, holidays, allow_pick,"
                       " require_language, outside_hours, created_at, updated_at)"
                       " VALUES(?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
                       (t["id"], t.get("name", t["id"]), t.get("timezone", "UTC"),
                        json.dumps(t["hours"]) if t.get("hours") else None,
                        json.dumps(t.get("holidays", [])), int(t.get("allow_pick", True)),
                        int(t.get("require_language", False)), json.dumps(t.get("outside_hours", {}))))
        for pos, match, team, prio, skills in rules:
            db.execute("INSERT INTO routing_rules(position, match, team, priority, skills, created_at,"
                       " updated_at) VALUES(?, ?, ?, ?, ?, 0, 0)",
                       (pos, json.dumps(match), team, prio, json.dumps(skills)))
        for a in agents:
            uid = server.user_ids[a["email"]]
            db.execute("INSERT INTO agent_profiles(user_id, status, capacity, skills) VALUES(?, ?, ?, ?)",
                       (uid, a.get("status", "online"), a.get("capacity", 4), json.dumps(a.get("skills", []))))
            for t in a.get("teams", ["default"]):
                db.execute("INSERT INTO team_members(team_id, user_id) VALUES(?, ?)", (t, uid))
        db.commit()
        db.close()

    s = harness.Server(config=cfg, users=users, before_start=before)
    s.extra_args = ["--test-clock"]
    s.extra_env = {"SWITCHBOARD_TEST": "1"}
    return s


def ask_human(server, locale="en"):
    conv = server.start_conversation(locale)
    body = server.send(conv, ASK_HUMAN[locale], client_id="ask")
    assert body["status"] == "queued", body
    return conv


def ask_many(server, n, locale="en"):
    """n customers ask for a person at the same time (threads); returns their conversations."""
    out, errors = [None] * n, []

    def one(i):
        try:
            out[i] = ask_human(server, locale)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return out


def advance(server, admin, seconds):
    st, _, b = admin.request("POST", "/api/v1/test/clock", {"advance_s": seconds})
    assert st == 200, (st, b)
    return b["now"]


def events(server, conv):
    evs, _ = server.all_events(conv)
    return evs
