#!/usr/bin/env python3
"""Independent reference for money/: writes golden.txt, read by golden_test.go.

Written apart from the Go code, from DOMAIN.md "Money rules" alone, in exact
rational arithmetic (fractions.Fraction); no floats. Regenerate with
    python3 money/testdata/reference.py > money/testdata/golden.txt
The cases are pseudo-random with a fixed seed, plus cases chosen to land on an
exact half cent, where a truncated monthly rate would round the wrong way.
"""
import calendar
import datetime
import random
from decimal import Decimal
from fractions import Fraction as F


def rnd(q):
    """Half-up (away from zero) to 0.01."""
    s = -1 if q < 0 else 1
    q = abs(q) * 100
    c = (2 * q.numerator + q.denominator) // (2 * q.denominator)
    return F(s * c, 100)


def fmt(q):
    assert (q * 100).denominator == 1, q
    return str(Decimal((q * 100).numerator).scaleb(-2))


def due(start, k):
    m = start.month - 1 + k
    y, m = start.year + m // 12, m % 12 + 1
    return datetime.date(y, m, min(start.day, calendar.monthrange(y, m)[1]))


def schedule(P, a, n, method, start):
    r = a / 12
    if method == "bullet":
        i = rnd(P * r * n)
        return [(1, due(start, n), P, i, P + i, F(0))]
    if method == "equal_installment":
        A = rnd(P / n) if r == 0 else rnd(P * r * (1 + r) ** n / ((1 + r) ** n - 1))
    elif method == "equal_principal":
        A = rnd(P / n)
    out, B = [], P
    for k in range(1, n + 1):
        if method == "interest_only":
            i, p = rnd(P * r), F(0)
        else:
            i = rnd(B * r)
            p = A - i if method == "equal_installment" else A
        if k == n or p > B:
            p = B
        B -= p
        out.append((k, due(start, k), p, i, p + i, B))
    return out


def split(total, weights):
    """Largest remainder over cents; ties to the lowest index."""
    cents = total * 100
    s = sum(weights)
    exact = [cents * w / s for w in weights]
    floors = [e.numerator // e.denominator for e in exact]
    order = sorted(range(len(weights)), key=lambda i: -(exact[i] - floors[i]))  # stable
    for i in order[: int(cents) - sum(floors)]:
        floors[i] += 1
    return [F(f, 100) for f in floors]


def main():
    rng = random.Random(20260101)
    methods = ["equal_installment", "equal_principal", "interest_only", "bullet"]
    rates = ["0.065", "0.085", "0.11", "0.14", "0.18", "0", "0.12", "0.0999", "0.24"]
    cases = [
        ("10000.00", "0.12", 12, "equal_installment", datetime.date(2026, 1, 15)),
        ("200000.00", "0.18", 36, "equal_installment", datetime.date(2026, 1, 31)),
        ("1003.00", "0.085", 12, "bullet", datetime.date(2026, 3, 31)),
        ("204.00", "0.085", 2, "interest_only", datetime.date(2028, 2, 29)),
        ("1020.00", "0.085", 36, "equal_principal", datetime.date(2028, 2, 29)),
    ]
    for _ in range(150):
        P = "%d.%02d" % (rng.choice([rng.randint(1000, 200000), rng.randint(1, 999)]), rng.choice([0, 0, rng.randint(0, 99)]))
        start = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 1200))
        cases.append((P, rng.choice(rates), rng.randint(1, 36), rng.choice(methods), start))
    for P, a, n, m, start in cases:
        print("schedule", P, a, n, m, start.isoformat())
        for k, d, p, i, pay, b in schedule(F(Decimal(P)), F(Decimal(a)), n, m, start):
            print(k, d.isoformat(), fmt(p), fmt(i), fmt(pay), fmt(b))
    splits = [("100.00", ["1", "1", "1"]), ("0.05", ["1"] * 6), ("19859.00", ["30000", "20000", "10000"])]
    for _ in range(150):
        total = "%d.%02d" % (rng.randint(0, 50000), rng.randint(0, 99))
        ws = ["%d.%02d" % (rng.randint(1, 50000), rng.choice([0, rng.randint(0, 99)])) for _ in range(rng.randint(1, 25))]
        splits.append((total, ws))
    for total, ws in splits:
        print("split", total, *ws)
        print(*[fmt(x) for x in split(F(Decimal(total)), [F(Decimal(w)) for w in ws])])


if __name__ == "__main__":
    main()
