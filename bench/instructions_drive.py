"""Client of bench/instructions.sh: one keep-alive connection, one request
at a time, so the server's work per message is the same in every run.

  instructions_drive.py PORT CONVS WARM N QUESTIONS FLAG

Creates CONVS conversations, posts WARM messages to the first WARM of them
(statements prepared, caches filled), touches FLAG.ready and waits for
FLAG.go, then posts N messages, one to each of the next N conversations
(so no conversation reaches a second miss and a hand-off: the bot's
decisions depend only on the question), and writes FLAG.done with how many
answers had how many replies.
"""
import http.client
import json
import os
import sys
import time


def main():
    port, convs, warm, n = (int(a) for a in sys.argv[1:5])
    questions_path, flag = sys.argv[5], sys.argv[6]
    with open(questions_path, encoding="utf-8") as f:
        questions = [line.strip() for line in f if line.strip()]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def post(path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request("POST", path, json.dumps(body), headers)
        r = conn.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit(f"{path}: {r.status} {data[:200]!r}")
        return json.loads(data)

    ids = []
    for _ in range(convs):
        j = post("/api/v1/conversations", {"locale": "en"})
        ids.append((j["id"], j["token"]))

    def send(k, tag):
        cid, token = ids[k]
        body = {"text": questions[(k * 7) % len(questions)], "client_id": f"{tag}-{k}"}
        return post(f"/api/v1/conversations/{cid}/messages", body, token)

    for k in range(warm):
        send(k, "warm")
    open(flag + ".ready", "w").close()
    while not os.path.exists(flag + ".go"):
        time.sleep(0.05)
    kinds = {}
    for k in range(warm, warm + n):
        nrep = len(send(k, "m")["replies"])
        kinds[nrep] = kinds.get(nrep, 0) + 1
    with open(flag + ".done", "w") as f:
        json.dump(kinds, f)


if __name__ == "__main__":
    main()
