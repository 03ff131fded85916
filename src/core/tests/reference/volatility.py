#!/usr/bin/env python3
"""Reference values for the volatility indicators (and Bollinger Band Width and Squeeze
Intensity), computed with plain loops from their published definitions and the original
KTRDR's choices, independently of the Rust code:

- ATR: simple mean of the true range over `period` bars (the original's rolling mean, not
  Wilder's smoothing); the first bar's true range is its high - low.
- Bollinger Bands: mean and sample standard deviation (ddof 1) of each full window;
  columns upper/middle/lower named `<line>_<period>_<multiplier>`. `std_dev` is another name
  for `multiplier`.
- Donchian Channels: highest high / lowest low of each full window, middle, width, position.
- Keltner Channels: EMA of close (alpha 2/(period+1), seeded with the first close), ATR as
  above over `atr_period`, bands at multiplier * ATR, width, position, squeeze ratio.
- Bollinger Band Width: (upper - lower) / middle where |middle| > 1e-10, else 0.0 (warm-up
  rows too: the original's numpy test is false for NaN).
- Squeeze Intensity: max(0, min((kcu - bbu) / r, (bbl - kcl) / r)) with r = kcu - kcl where
  |r| > 1e-10, else 0.0 (Keltner's ATR period fixed at 10; a NaN r counts as "else").

A value the original gives as NaN or +-inf (division by zero) is written as null.
Run from anywhere: python3 volatility.py  (reads bars.json, writes volatility.json).
"""

import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load_bars():
    with open(os.path.join(HERE, "bars.json")) as f:
        data = json.load(f)
    out = {}
    for key in ("main", "flat"):
        rows = data[key]
        out[key] = {c: [float(r[c]) for r in rows] for c in ("open", "high", "low", "close", "volume")}
    return out


def div(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def sub(a, b):
    return None if a is None or b is None else a - b


def add(a, b):
    return None if a is None or b is None else a + b


def mul(k, a):
    return None if a is None else k * a


def windows(x, n):
    """Each full window ending at i (None before)."""
    return [x[i + 1 - n:i + 1] if i + 1 >= n else None for i in range(len(x))]


def mean(w):
    return sum(w) / len(w)


def rolling_mean(x, n):
    return [None if w is None else mean(w) for w in windows(x, n)]


def rolling_std(x, n):
    out = []
    for w in windows(x, n):
        if w is None or n < 2:
            out.append(None)
            continue
        m = mean(w)
        out.append(math.sqrt(sum((v - m) ** 2 for v in w) / (n - 1)))
    return out


def true_range(h, l, c):
    tr = []
    for i in range(len(h)):
        if i == 0:
            tr.append(h[i] - l[i])
        else:
            tr.append(max(h[i] - l[i], abs(h[i] - c[i - 1]), abs(l[i] - c[i - 1])))
    return tr


def atr(b, period):
    return rolling_mean(true_range(b["high"], b["low"], b["close"]), period)


def ema(x, span):
    a = 2.0 / (span + 1.0)
    out = []
    for i, v in enumerate(x):
        out.append(v if i == 0 else a * v + (1 - a) * out[-1])
    return out


def bbands(x, period, k):
    mid = rolling_mean(x, period)
    sd = rolling_std(x, period)
    up = [add(m, mul(k, s)) for m, s in zip(mid, sd)]
    lo = [sub(m, mul(k, s)) for m, s in zip(mid, sd)]
    return up, mid, lo


def keltner(b, period, atr_period, k):
    mid = ema(b["close"], period)
    a = atr(b, atr_period)
    up = [add(m, mul(k, v)) for m, v in zip(mid, a)]
    lo = [sub(m, mul(k, v)) for m, v in zip(mid, a)]
    width = [sub(u, l) for u, l in zip(up, lo)]
    pos = [div(sub(c, l), w) for c, l, w in zip(b["close"], lo, width)]
    sq = [div(h - l, w) for h, l, w in zip(b["high"], b["low"], width)]
    return mid, up, lo, a, width, pos, sq


def pystr(v):
    """Python's str() of a parameter, as the original writes it in column names."""
    return str(v)


def case_atr(b, p):
    period = p.get("period", 14)
    return {f"atr_{period}": atr(b, period)}


def case_bbands(b, p):
    period = p.get("period", 20)
    k = float(p.get("std_dev", p.get("multiplier", 2.0)))
    up, mid, lo = bbands(b[p.get("source", "close")], period, k)
    s = f"{period}_{pystr(k)}"
    return {f"upper_{s}": up, f"middle_{s}": mid, f"lower_{s}": lo}


def case_donchian(b, p):
    n = p.get("period", 20)
    hi = [None if w is None else max(w) for w in windows(b["high"], n)]
    lo = [None if w is None else min(w) for w in windows(b["low"], n)]
    mid = [None if u is None else (u + l) / 2 for u, l in zip(hi, lo)]
    width = [sub(u, l) for u, l in zip(hi, lo)]
    pos = [div(sub(c, l), w) for c, l, w in zip(b["close"], lo, width)]
    return {
        f"DC_Upper_{n}": hi,
        f"DC_Lower_{n}": lo,
        f"DC_Middle_{n}": mid,
        f"DC_Width_{n}": width,
        f"DC_Position_{n}": pos,
    }


def case_keltner(b, p):
    period = p.get("period", 20)
    ap = p.get("atr_period", 10)
    k = float(p.get("multiplier", 2.0))
    mid, up, lo, a, width, pos, sq = keltner(b, period, ap, k)
    s = f"{period}_{ap}_{pystr(k)}"
    return {
        f"KC_Middle_{period}": mid,
        f"KC_Upper_{s}": up,
        f"KC_Lower_{s}": lo,
        f"KC_ATR_{ap}": a,
        f"KC_Width_{s}": width,
        f"KC_Position_{s}": pos,
        f"KC_Squeeze_{s}": sq,
    }


def case_bbw(b, p):
    period = p.get("period", 20)
    k = float(p.get("multiplier", 2.0))
    up, mid, lo = bbands(b[p.get("source", "close")], period, k)
    out = []
    for u, m, l in zip(up, mid, lo):
        if m is not None and abs(m) > 1e-10:
            out.append((u - l) / m)
        else:
            out.append(0.0)
    return {f"bollingerbandwidth_{period}_{pystr(k)}": out}


def case_squeeze(b, p):
    bp = p.get("bb_period", 20)
    bk = float(p.get("bb_multiplier", 2.0))
    kp = p.get("kc_period", 20)
    kk = float(p.get("kc_multiplier", 2.0))
    bbu, _, bbl = bbands(b[p.get("source", "close")], bp, bk)
    _, kcu, kcl, _, _, _, _ = keltner(b, kp, 10, kk)
    out = []
    for bu, bl, ku, kl in zip(bbu, bbl, kcu, kcl):
        r = sub(ku, kl)
        if r is not None and abs(r) > 1e-10:
            if bu is None or bl is None:
                out.append(None)
            else:
                out.append(max(0.0, min((ku - bu) / r, (bl - kl) / r)))
        else:
            out.append(0.0)
    return {f"squeezeintensity_{bp}_{pystr(bk)}_{kp}_{pystr(kk)}": out}


CASES = {
    "ATRIndicator": (case_atr, [
        ("main", {"period": 3}),
        ("main", {}),
        ("flat", {"period": 14}),
    ]),
    "BollingerBandsIndicator": (case_bbands, [
        ("main", {"period": 5, "multiplier": 2.0}),
        ("main", {}),
        ("main", {"period": 4, "multiplier": 2.5, "source": "high"}),
        ("main", {"period": 5, "std_dev": 1.5}),
        ("flat", {"period": 20, "multiplier": 2}),
    ]),
    "DonchianChannelsIndicator": (case_donchian, [
        ("main", {"period": 3}),
        ("main", {}),
        ("flat", {"period": 5}),
    ]),
    "KeltnerChannelsIndicator": (case_keltner, [
        ("main", {"period": 5, "atr_period": 3, "multiplier": 1.5}),
        ("main", {}),
        ("flat", {"period": 20, "atr_period": 10, "multiplier": 2.0}),
    ]),
    "BollingerBandWidthIndicator": (case_bbw, [
        ("main", {"period": 5, "multiplier": 2.0}),
        ("main", {}),
        ("flat", {"period": 5}),
    ]),
    "SqueezeIntensityIndicator": (case_squeeze, [
        ("main", {"bb_period": 5, "bb_multiplier": 2.0, "kc_period": 4, "kc_multiplier": 1.5}),
        ("main", {}),
        ("main", {"bb_period": 12, "bb_multiplier": 1.0, "kc_period": 6, "kc_multiplier": 3.0, "source": "open"}),
        ("flat", {}),
    ]),
}


def clean(values):
    return [None if v is None or not math.isfinite(v) else v for v in values]


def main():
    bars = load_bars()
    out = {}
    for ind, (fn, cases) in CASES.items():
        out[ind] = []
        for series, params in cases:
            outputs = fn(bars[series], params)
            out[ind].append({
                "series": series,
                "params": params,
                "outputs": {k: clean(v) for k, v in outputs.items()},
            })
    with open(os.path.join(HERE, "volatility.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
