#!/usr/bin/env python3
"""Reference values for the volume indicators (plain Python: no pandas, no numpy).

Each indicator is written from its published definition with the choices of the Python
original (KTRDR): its rolling windows and `min_periods`, its division-by-zero rules, its extra
columns. Reads bars.json next to this file, writes volume.json. NaN and +-inf are written as
null (the original's API sends both as null).

Run: python3 src/core/tests/reference/volume.py
"""

import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NAN = float("nan")


def clean(xs):
    return [None if (x is None or math.isnan(x) or math.isinf(x)) else x for x in xs]


def div(a, b):
    """a / b as numpy divides floats: +-inf for x/0, NaN for 0/0."""
    if math.isnan(a) or math.isnan(b):
        return NAN
    if b == 0:
        return NAN if a == 0 else math.copysign(math.inf, a)
    return a / b


def window_sum(xs, i, n, min_periods):
    """Sum of the non-NaN values among xs[i-n+1..i]; NaN if fewer than min_periods."""
    vals = [v for v in xs[max(0, i - n + 1): i + 1] if not math.isnan(v)]
    if len(vals) < min_periods or not vals:
        return NAN
    return sum(vals)


def window_mean(xs, i, n, min_periods):
    vals = [v for v in xs[max(0, i - n + 1): i + 1] if not math.isnan(v)]
    if len(vals) < min_periods or not vals:
        return NAN
    return sum(vals) / len(vals)


def typical(b):
    return (b["high"] + b["low"] + b["close"]) / 3.0


def multiplier(b):
    rng = b["high"] - b["low"]
    if rng == 0:
        return 0.0
    return ((b["close"] - b["low"]) - (b["high"] - b["close"])) / rng


# OBV: starts at 0; + volume when the close rose, - when it fell.
def obv(bars, params):
    out, acc = [], 0.0
    for i, b in enumerate(bars):
        if i > 0:
            if b["close"] > bars[i - 1]["close"]:
                acc += b["volume"]
            elif b["close"] < bars[i - 1]["close"]:
                acc -= b["volume"]
        out.append(acc)
    return {"obv": out}


# VWAP: rolling window of `period` bars with min_periods=1 (no daily reset), cumulative for 0.
def vwap(bars, params):
    period = params.get("period", 20)
    tp = params.get("use_typical_price", True)
    price = [typical(b) if tp else b["close"] for b in bars]
    vol = [b["volume"] for b in bars]
    out = []
    for i in range(len(bars)):
        lo = 0 if period == 0 else max(0, i - period + 1)
        num = sum(price[j] * vol[j] for j in range(lo, i + 1))
        den = sum(vol[lo: i + 1])
        out.append(NAN if den == 0 else num / den)
    return {"vwap_%d_%s" % (period, tp): out}


# MFI: windows of `period` typical-price changes; 100 when no negative flow, 0 when no positive.
def mfi(bars, params):
    period = params.get("period", 14)
    tp = [typical(b) for b in bars]
    out = [NAN] * len(bars)
    for i in range(period, len(bars)):
        pos = neg = 0.0
        for j in range(i - period + 1, i + 1):
            flow = tp[j] * bars[j]["volume"]
            if tp[j] > tp[j - 1]:
                pos += flow
            elif tp[j] < tp[j - 1]:
                neg += flow
        if neg == 0:
            out[i] = 100.0
        elif pos == 0:
            out[i] = 0.0
        else:
            out[i] = 100.0 - 100.0 / (1.0 + pos / neg)
    return {"mfi_%d" % period: out}


# A/D line and the original's extra columns (the SMA column comes last in ktrdr).
def ad_line(bars, params):
    smooth = params.get("use_sma_smoothing", False)
    sp = params.get("smoothing_period", 21)
    mfm = [multiplier(b) for b in bars]
    mfv = [m * b["volume"] for m, b in zip(mfm, bars)]
    line, acc = [], 0.0
    for v in mfv:
        acc += v
        line.append(acc)
    n = len(bars)
    # (a/b - 1) * 100, as the original writes it
    roc = [NAN if i < 10 else (div(line[i], line[i - 10]) - 1) * 100 for i in range(n)]
    mom = [NAN if i < 21 else line[i] - line[i - 21] for i in range(n)]
    rel = [(div(line[i], window_mean(line, i, 50, 20)) - 1) * 100 for i in range(n)]
    out = {
        "AD_Line": line,
        "AD_MF_Multiplier": mfm,
        "AD_MF_Volume": mfv,
        "AD_ROC_10": roc,
        "AD_Momentum_21": mom,
        "AD_Relative_Strength": rel,
    }
    if smooth:
        out["AD_Line_SMA_%d" % sp] = [window_mean(line, i, sp, sp) for i in range(n)]
    return out


# CMF and the original's extra columns; booleans as 1.0 / 0.0.
def cmf(bars, params):
    p = params.get("period", 21)
    n = len(bars)
    mfm = [multiplier(b) for b in bars]
    mfv = [m * b["volume"] for m, b in zip(mfm, bars)]
    vol = [b["volume"] for b in bars]
    c = []
    for i in range(n):
        a, v = window_sum(mfv, i, p, p), window_sum(vol, i, p, p)
        c.append(0.0 if v == 0 else (NAN if math.isnan(v) else a / v))
    mom = [NAN if i < 5 else c[i] - c[i - 5] for i in range(n)]
    alpha = 2.0 / (9 + 1)
    sig, prev = [], NAN
    for x in c:
        if math.isnan(prev):
            prev = x
        elif not math.isnan(x):
            prev = alpha * x + (1 - alpha) * prev
        sig.append(prev)
    hist = [x - s for x, s in zip(c, sig)]
    return {
        "CMF_%d" % p: c,
        "CMF_MF_Multiplier_%d" % p: mfm,
        "CMF_MF_Volume_%d" % p: mfv,
        "CMF_Momentum_%d" % p: mom,
        "CMF_Signal_%d" % p: sig,
        "CMF_Histogram_%d" % p: hist,
        "CMF_Above_Zero_%d" % p: [1.0 if x > 0 else 0.0 for x in c],
        "CMF_Below_Zero_%d" % p: [1.0 if x < 0 else 0.0 for x in c],
    }


# Volume / SMA(volume, period); 1.0 where the SMA is undefined or ~0.
def volume_ratio(bars, params):
    p = params.get("period", 20)
    vol = [b["volume"] for b in bars]
    out = []
    for i in range(len(bars)):
        m = window_mean(vol, i, p, p)
        out.append(vol[i] / m if (not math.isnan(m) and abs(m) > 1e-10) else 1.0)
    return {"volumeratio_%d" % p: out}


# ktrdr's own: SMA of volume.
def volume_sma(bars, params):
    p = params.get("period", 20)
    vol = [b["volume"] for b in bars]
    return {"volume_sma_%d" % p: [window_mean(vol, i, p, p) for i in range(len(bars))]}


CASES = {
    "OBVIndicator": (obv, [("main", {}), ("flat", {})]),
    "VWAPIndicator": (
        vwap,
        [
            ("main", {"period": 5}),
            ("main", {}),
            ("main", {"period": 0}),
            ("main", {"period": 3, "use_typical_price": False}),
            ("flat", {"period": 5}),
        ],
    ),
    "MFIIndicator": (mfi, [("main", {"period": 4}), ("main", {}), ("flat", {"period": 4})]),
    "ADLineIndicator": (
        ad_line,
        [
            ("main", {}),
            ("main", {"use_sma_smoothing": True, "smoothing_period": 5}),
            ("flat", {}),
        ],
    ),
    "CMFIndicator": (cmf, [("main", {"period": 5}), ("main", {}), ("flat", {"period": 5})]),
    "VolumeRatioIndicator": (
        volume_ratio,
        [("main", {"period": 5}), ("main", {}), ("flat", {"period": 5})],
    ),
    "VolumeSMAIndicator": (
        volume_sma,
        [("main", {"period": 5}), ("main", {}), ("flat", {"period": 5})],
    ),
}


def main():
    with open(os.path.join(HERE, "bars.json")) as f:
        bars = json.load(f)
    out = {}
    for ind, (fn, cases) in CASES.items():
        out[ind] = []
        for series, params in cases:
            cols = fn(bars[series], params)
            out[ind].append(
                {
                    "series": series,
                    "params": params,
                    "columns": list(cols),
                    "outputs": {k: clean(v) for k, v in cols.items()},
                }
            )
    with open(os.path.join(HERE, "volume.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
