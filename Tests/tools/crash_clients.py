#!/usr/bin/env python3
"""Trading clients for scripts/crash-test.sh: they trade through Fiducia's API while the server is
killed with SIGKILL again and again, each retrying every request with its Idempotency-Key until it
is answered, then check that everything they were told is true and nothing happened twice.

  crash_clients.py trade  --base URL --clients N --seconds S --state FILE --ready FILE
  crash_clients.py verify --base URL --state FILE --database URL_OR_PATH

Standard library only. Each client is one buyer trading with one seller, so its orders can be
listed and counted exactly; every trade has a unique title and four keyed requests.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

STEPS = ["create", "pay", "ship", "confirm"]
# The order status each step leads to, and the order of statuses.
REACHED = {"create": "created", "pay": "paid", "ship": "shipped", "confirm": "completed"}
RANK = {"created": 0, "paid": 1, "shipped": 2, "completed": 3}
RETRYABLE_PROBLEMS = {"idempotency-key-in-use", "payment-in-progress", "payment-provider-unavailable", "database-busy"}


def call(base, method, path, body=None, token=None, key=None, patience=120):
    """Sends the request until it gets an answer that is not a server failure; returns (status, json)."""
    deadline = time.time() + patience
    data = None if body is None else json.dumps(body).encode()
    while True:
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        if key:
            request.add_header("Idempotency-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                document = json.loads(payload or b"{}")
            except ValueError:
                document = {}
            problem = str(document.get("type", "")).rsplit("/", 1)[-1]
            if error.code < 500 and problem not in RETRYABLE_PROBLEMS and error.code != 429:
                return error.code, document
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass  # the server is down (killed): try again
        if time.time() > deadline:
            raise RuntimeError(f"{method} {path} got no answer in {patience} s")
        time.sleep(0.2)


def sign_up(base, name, role, run):
    email = f"{name}-{run}@crash.example"
    body = {"email": email, "password": "crash test password", "displayName": name, "roles": [role]}
    status, user = call(base, "POST", "/v1/users", body, key=f"signup-{email}")
    assert status == 201, (status, user)
    status, session = call(base, "POST", "/v1/sessions", {"email": email, "password": "crash test password"}, key=f"login-{email}")
    assert status == 201, (status, session)
    return {"id": user["id"], "token": session["token"]}


def trade_loop(base, client, seconds, state, lock):
    buyer, seller = client["buyer"], client["seller"]
    stop = time.time() + seconds
    number = 0
    while time.time() < stop:
        number += 1
        title = f"crash-{client['name']}-trade-{number}"
        record = {"title": title, "acknowledged": [], "recovered": [], "order": None}
        with lock:
            client["trades"].append(record)
        body = {"sellerId": seller["id"], "currency": "EUR",
                "items": [{"title": title, "quantity": 1, "unitPriceMinor": 1000 + number}]}
        status, order = call(base, "POST", "/v1/orders", body, token=buyer["token"], key=f"{title}:create")
        if status != 201:
            state["anomalies"].append(f"{title}: create answered {status} {order}")
            continue
        record["order"] = order["id"]
        record["acknowledged"].append("create")
        path = f"/v1/orders/{order['id']}"
        requests = {
            "pay": (f"{path}/payment", {"method": "card", "cardToken": "tok_visa"}, buyer),
            "ship": (f"{path}/shipment", {"carrier": "Crash Express", "trackingNumber": title}, seller),
            "confirm": (f"{path}/receipt-confirmation", {}, buyer),
        }
        for step in STEPS[1:]:
            target, payload, party = requests[step]
            status, answer = call(base, "POST", target, payload, token=party["token"], key=f"{title}:{step}")
            if 200 <= status < 300:
                record["acknowledged"].append(step)
                continue
            # An answer other than success: allowed only if the step is done all the same (its
            # first answer was lost with its server after an early commit, and the retry found it done).
            _, current = call(base, "GET", path, token=buyer["token"])
            if RANK.get(current.get("status"), -1) >= RANK[REACHED[step]]:
                record["recovered"].append(step)
                continue
            state["anomalies"].append(f"{title}: {step} answered {status} {answer.get('type')} and the order is {current.get('status')}")
            break


def trade(args):
    run = str(int(time.time()))
    clients = []
    for index in range(args.clients):
        clients.append({"name": f"c{index}", "trades": [],
                        "buyer": sign_up(args.base, f"buyer{index}", "buyer", run),
                        "seller": sign_up(args.base, f"seller{index}", "seller", run)})
    state = {"clients": clients, "anomalies": []}
    open(args.ready, "w").close()
    lock = threading.Lock()
    threads = [threading.Thread(target=trade_loop, args=(args.base, client, args.seconds, state, lock)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(args.state, "w") as file:
        json.dump(state, file)
    trades = sum(len(client["trades"]) for client in clients)
    steps = sum(len(t["acknowledged"]) for client in clients for t in client["trades"])
    recovered = sum(len(t["recovered"]) for client in clients for t in client["trades"])
    print(f"{trades} trades, {steps} acknowledged steps, {recovered} steps found done after a lost answer, "
          f"{len(state['anomalies'])} anomalies")
    for anomaly in state["anomalies"][:20]:
        print("  anomaly:", anomaly)
    return 1 if state["anomalies"] else 0


def query(database, sql):
    if database.startswith("postgres"):
        output = subprocess.run(["psql", database, "-XAtqc", sql], check=True, capture_output=True, text=True).stdout
        return [line.split("|") for line in output.splitlines() if line]
    with sqlite3.connect(database) as connection:
        return [[str(value) for value in row] for row in connection.execute(sql)]


def verify(args):
    with open(args.state) as file:
        state = json.load(file)
    failures = list(state["anomalies"])
    checked = 0
    for client in state["clients"]:
        buyer = client["buyer"]
        # Every order the buyer has, by title: each trade exists at most once.
        titles = {}
        cursor = None
        while True:
            path = "/v1/orders?role=buyer&limit=100" + (f"&cursor={cursor}" if cursor else "")
            status, page = call(args.base, "GET", path, token=buyer["token"])
            assert status == 200, (status, page)
            for order in page["items"]:
                for item in order["items"]:
                    titles.setdefault(item["title"], []).append(order)
            cursor = page.get("nextCursor")
            if not cursor:
                break
        for title, orders in titles.items():
            if len(orders) > 1:
                failures.append(f"{title}: created {len(orders)} times")
        for trade in client["trades"]:
            found = titles.get(trade["title"], [])
            if "create" in trade["acknowledged"] and not found:
                failures.append(f"{trade['title']}: acknowledged but missing")
                continue
            for step in trade["acknowledged"] + trade["recovered"]:
                checked += 1
                status = found[0]["status"] if found else None
                if RANK.get(status, -1) < RANK[REACHED[step]]:
                    failures.append(f"{trade['title']}: {step} acknowledged but the order is {status}")
    # Money: no order was charged twice, and every charge that went through belongs to a paid order.
    for order, count in query(args.database, "SELECT subject_id, count(*) FROM charge_attempts WHERE state = 'succeeded' GROUP BY subject_id HAVING count(*) > 1"):
        failures.append(f"order {order} was charged {count} times")
    unpaid = query(args.database, "SELECT a.subject_id FROM charge_attempts a JOIN orders o ON o.id = a.subject_id WHERE a.state = 'succeeded' AND o.paid_at IS NULL")
    for (order,) in unpaid:
        failures.append(f"order {order} was charged but is not paid")
    print(f"verified {checked} acknowledged steps of {sum(len(c['trades']) for c in state['clients'])} trades")
    for failure in failures[:20]:
        print("  FAILED:", failure)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["trade", "verify"])
    parser.add_argument("--base", required=True)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--state", required=True)
    parser.add_argument("--ready")
    parser.add_argument("--database")
    args = parser.parse_args()
    sys.exit(trade(args) if args.command == "trade" else verify(args))


if __name__ == "__main__":
    main()
