#!/usr/bin/env python3
"""Reference values for the momentum indicators, in plain Python (no pandas, no numpy).

Each function follows the published definition with the choices of the original KTRDR
(pandas `ewm(adjust=False)`, rolling windows with `min_periods`, its NaN fills). Reads
bars.json next to this file and writes momentum.json:
{"<IndicatorId>": [{"series", "params", "outputs": {"<column>": [v | null, ...]}}, ...]}.
Run: python3 momentum.py
"""

import json
import math
import os

NAN = float("nan")
HERE = os.path.dirname(os.path.abspath(__file__))


def isnan(v):
    return v != v


# ---------------------------------------------------------------- building blocks


def ewm(xs, alpha):
    """pandas ewm(alpha, adjust=False), ignore_na=False: seed with the first value, then
    (w*prev + alpha*x)/(w + alpha), w = (1-alpha)^(steps since last value); NaN repeats."""
    out = []
    weighted = NAN
    old_wt = 1.0
    for cur in xs:
        if isnan(weighted):
            if not isnan(cur):
                weighted = cur
                old_wt = 1.0
        else:
            old_wt *= 1.0 - alpha
            if not isnan(cur):
                if weighted != cur:
                    weighted = (old_wt * weighted + alpha * cur) / (old_wt + alpha)
                old_wt = 1.0
        out.append(weighted)
    return out


def rolling_mean(xs, w, min_periods):
    """Mean of the non-NaN values among the last w; NaN if fewer than min_periods.
    A window whose values are all equal gives that value (as pandas does)."""
    out = []
    for i in range(len(xs)):
        win = [v for v in xs[max(0, i - w + 1): i + 1] if not isnan(v)]
        if len(win) < max(min_periods, 1):
            out.append(NAN)
        elif all(v == win[0] for v in win):
            out.append(win[0])
        else:
            out.append(sum(win) / len(win))
    return out


def rolling_ext(xs, w, fn):
    """max/min over the last w values (min_periods=w); NaN if the window holds a NaN."""
    out = []
    for i in range(len(xs)):
        if i + 1 < w:
            out.append(NAN)
            continue
        win = xs[i - w + 1: i + 1]
        out.append(NAN if any(isnan(v) for v in win) else fn(win))
    return out


def div(a, b):
    """IEEE division as numpy does it: x/0 -> +-inf, 0/0 and NaN -> NaN."""
    if isnan(a) or isnan(b):
        return NAN
    if b == 0:
        if a == 0:
            return NAN
        return math.copysign(math.inf, a) * (1 if math.copysign(1, b) > 0 else -1)
    return a / b


# ---------------------------------------------------------------- indicators


def rsi(bars, period, source="close"):
    x = [b[source] for b in bars]
    n = len(x)
    out = [NAN] * n
    if n <= period:
        return {f"rsi_{period}": out}
    deltas = [NAN] + [x[i] - x[i - 1] for i in range(1, n)]
    if sum(abs(d) for d in deltas[1:]) == 0:
        for i in range(period, n):
            out[i] = 50.0
        return {f"rsi_{period}": out}
    gain = [NAN] + [d if d > 0 else 0.0 for d in deltas[1:]]
    loss = [NAN] + [-d if d < 0 else 0.0 for d in deltas[1:]]
    ag = sum(gain[1: period + 1]) / period
    al = sum(loss[1: period + 1]) / period

    def value(g, l):
        if l == 0:
            return 100.0 if g > 0 else 50.0
        return 100 - 100 / (1 + g / l)

    out[period] = value(ag, al)
    for i in range(period + 1, n):
        ag = (ag * (period - 1) + gain[i]) / period
        al = (al * (period - 1) + loss[i]) / period
        out[i] = value(ag, al)
    return {f"rsi_{period}": out}


def macd(bars, fast_period, slow_period, signal_period, source="close"):
    x = [b[source] for b in bars]
    f = ewm(x, 2 / (fast_period + 1))
    s = ewm(x, 2 / (slow_period + 1))
    line = [a - b for a, b in zip(f, s)]
    sig = ewm(line, 2 / (signal_period + 1))
    hist = [a - b for a, b in zip(line, sig)]
    fs = f"{fast_period}_{slow_period}"
    return {
        f"MACD_{fs}": line,
        f"MACD_signal_{fs}_{signal_period}": sig,
        f"MACD_hist_{fs}_{signal_period}": hist,
    }


def stochastic(bars, k_period, d_period, smooth_k):
    h = [b["high"] for b in bars]
    l = [b["low"] for b in bars]
    c = [b["close"] for b in bars]
    hh = rolling_ext(h, k_period, max)
    ll = rolling_ext(l, k_period, min)
    raw = []
    for i in range(len(c)):
        v = div(c[i] - ll[i], hh[i] - ll[i]) * 100
        raw.append(50.0 if isnan(v) else v)  # fillna(50): warm-up rows too
    k = rolling_mean(raw, smooth_k, 1) if smooth_k > 1 else raw
    d = rolling_mean(k, d_period, 1)
    return {
        f"Stochastic_K_{k_period}_{smooth_k}": k,
        f"Stochastic_D_{k_period}_{d_period}_{smooth_k}": d,
    }


def williams_r(bars, period):
    h = [b["high"] for b in bars]
    l = [b["low"] for b in bars]
    c = [b["close"] for b in bars]
    hh = rolling_ext(h, period, max)
    ll = rolling_ext(l, period, min)
    out = []
    for i in range(len(c)):
        v = div(hh[i] - c[i], hh[i] - ll[i]) * -100
        out.append(-50.0 if isnan(v) else v)  # fillna(-50): warm-up rows too
    return {f"WilliamsR_{period}": out}


def cci(bars, period):
    tp = [(b["high"] + b["low"] + b["close"]) / 3 for b in bars]
    sma = rolling_mean(tp, period, period)
    out = []
    for i in range(len(tp)):
        if isnan(sma[i]):
            out.append(NAN)
            continue
        win = tp[i - period + 1: i + 1]
        md = sum(abs(v - sma[i]) for v in win) / period
        v = div(tp[i] - sma[i], 0.015 * md)
        out.append(v if math.isfinite(v) else NAN)
    return {f"cci_{period}": out}


def momentum(bars, period, source="close"):
    x = [b[source] for b in bars]
    out = [NAN if i < period else x[i] - x[i - period] for i in range(len(x))]
    return {f"Momentum_{period}_{source}": out}


def roc(bars, period, source="close"):
    x = [b[source] for b in bars]
    out = []
    for i in range(len(x)):
        if i < period:
            out.append(NAN)
            continue
        v = div(x[i] - x[i - period], x[i - period]) * 100
        out.append(v if math.isfinite(v) else NAN)
    return {f"ROC_{period}_{source}": out}


def rvi(bars, period, signal_period):
    co = [b["close"] - b["open"] for b in bars]
    hl = [b["high"] - b["low"] for b in bars]

    def weigh(s):
        return [NAN if i < 3 else (s[i - 3] + 2 * s[i - 2] + 2 * s[i - 1] + s[i]) / 6.0
                for i in range(len(s))]

    num = rolling_mean(weigh(co), period, period)
    den = rolling_mean(weigh(hl), period, period)
    r = [a / b if (not isnan(b) and b != 0) else NAN for a, b in zip(num, den)]
    sig = rolling_mean(r, signal_period, signal_period)
    p = f"{period}_{signal_period}"
    return {f"RVI_{p}_RVI": r, f"RVI_{p}_Signal": sig}


def fisher(bars, period, smoothing):
    h = [b["high"] for b in bars]
    l = [b["low"] for b in bars]
    hh = rolling_ext(h, period, max)
    ll = rolling_ext(l, period, min)
    norm = []
    for i in range(len(h)):
        med = (h[i] + l[i]) / 2
        rng = hh[i] - ll[i]
        if isnan(rng):
            norm.append(NAN)
        elif rng == 0:
            norm.append(0.0)
        else:
            v = 2 * ((med - ll[i]) / rng) - 1
            norm.append(min(max(v, -0.999), 0.999))
    raw = [NAN if isnan(v) else 0.5 * math.log((1 + v) / (1 - v)) for v in norm]
    fs = ewm(raw, 2 / (smoothing + 1))
    n = len(fs)
    trig = [NAN] + fs[:-1]
    mom = [NAN if i < 3 else fs[i] - fs[i - 3] for i in range(n)]
    hist = [a - b for a, b in zip(fs, trig)]

    def flag(pred):
        return [1.0 if (not isnan(v) and pred(v)) else 0.0 for v in fs]

    sfx = f"{period}_{smoothing}"
    return {
        f"Fisher_{sfx}": fs,
        f"Fisher_Trigger_{sfx}": trig,
        f"Fisher_Raw_{sfx}": raw,
        f"Fisher_Normalized_{sfx}": norm,
        f"Fisher_Momentum_{sfx}": mom,
        f"Fisher_Histogram_{sfx}": hist,
        f"Fisher_Above_Zero_{sfx}": flag(lambda v: v > 0),
        f"Fisher_Below_Zero_{sfx}": flag(lambda v: v < 0),
        f"Fisher_Overbought_{sfx}": flag(lambda v: v > 2),
        f"Fisher_Oversold_{sfx}": flag(lambda v: v < -2),
    }


# ---------------------------------------------------------------- cases

CASES = {
    "RSIIndicator": (rsi, [
        ("main", {"period": 3}),
        ("main", {"period": 14}),
        ("main", {"period": 5, "source": "high"}),
        ("flat", {"period": 14}),
    ]),
    "MACDIndicator": (macd, [
        ("main", {"fast_period": 3, "slow_period": 6, "signal_period": 4}),
        ("main", {"fast_period": 12, "slow_period": 26, "signal_period": 9}),
        ("flat", {"fast_period": 12, "slow_period": 26, "signal_period": 9}),
    ]),
    "StochasticIndicator": (stochastic, [
        ("main", {"k_period": 5, "d_period": 3, "smooth_k": 2}),
        ("main", {"k_period": 14, "d_period": 3, "smooth_k": 3}),
        ("main", {"k_period": 4, "d_period": 1, "smooth_k": 1}),
        ("flat", {"k_period": 14, "d_period": 3, "smooth_k": 3}),
    ]),
    "WilliamsRIndicator": (williams_r, [
        ("main", {"period": 4}),
        ("main", {"period": 14}),
        ("flat", {"period": 14}),
    ]),
    "CCIIndicator": (cci, [
        ("main", {"period": 5}),
        ("main", {"period": 20}),
        ("flat", {"period": 20}),
    ]),
    "MomentumIndicator": (momentum, [
        ("main", {"period": 3}),
        ("main", {"period": 10}),
        ("main", {"period": 2, "source": "open"}),
        ("flat", {"period": 10}),
    ]),
    "ROCIndicator": (roc, [
        ("main", {"period": 3}),
        ("main", {"period": 10}),
        ("main", {"period": 2, "source": "low"}),
        ("flat", {"period": 10}),
    ]),
    "RVIIndicator": (rvi, [
        ("main", {"period": 4, "signal_period": 2}),
        ("main", {"period": 10, "signal_period": 4}),
        ("flat", {"period": 10, "signal_period": 4}),
    ]),
    "FisherTransformIndicator": (fisher, [
        ("main", {"period": 4, "smoothing": 2}),
        ("main", {"period": 10, "smoothing": 3}),
        ("main", {"period": 5, "smoothing": 1}),
        ("flat", {"period": 10, "smoothing": 3}),
    ]),
}


def clean(v):
    return None if (isnan(v) or math.isinf(v)) else v


def main():
    with open(os.path.join(HERE, "bars.json")) as f:
        data = json.load(f)
    out = {}
    for ind, (fn, cases) in CASES.items():
        rows = []
        for series, params in cases:
            outputs = fn(data[series], **params)
            rows.append({
                "series": series,
                "params": params,
                "outputs": {k: [clean(v) for v in vs] for k, vs in outputs.items()},
            })
        out[ind] = rows
    with open(os.path.join(HERE, "momentum.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
