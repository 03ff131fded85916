#!/usr/bin/env python3
"""Reference values for the trend indicators (and Distance from MA), in plain Python.

Independent of ktrdr's Rust: each indicator is written out from its definition with the
choices of the original KTRDR (pandas' ewm variants, rolling windows with min_periods equal to
the window, its own loops for ZigZag, Parabolic SAR and SuperTrend). Reads bars.json next to
this file and writes trend.json:

    {"<IndicatorId>": [{"series", "params", "outputs": {"<column>": [v | null | "inf", ...]}}]}

NaN is written as null, infinities as the strings "inf" / "-inf".
Run: python3 src/core/tests/reference/trend.py
"""

import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NAN = float("nan")


def isnan(v):
    return v != v


def col(bars, name):
    return [b[name] for b in bars]


# ---------------------------------------------------------------- building blocks


def sma(x, n):
    out = []
    for i in range(len(x)):
        if i + 1 < n:
            out.append(NAN)
        else:
            w = x[i + 1 - n : i + 1]
            out.append(NAN if any(isnan(v) for v in w) else sum(w) / n)
    return out


def ema_adjusted(x, alpha):
    """y_t = sum((1-a)^i x_{t-i}) / sum((1-a)^i), written as the explicit weighted sum."""
    out = []
    for t in range(len(x)):
        num = den = 0.0
        for i in range(t + 1):
            w = (1 - alpha) ** i
            num += w * x[t - i]
            den += w
        out.append(num / den)
    return out


def ema_recursive(x, alpha):
    """y_0 = x_0, y_t = a x_t + (1-a) y_{t-1}."""
    out = []
    for i, v in enumerate(x):
        out.append(v if i == 0 else alpha * v + (1 - alpha) * out[-1])
    return out


def rolling(x, n, f):
    return [NAN if i + 1 < n else f(x[i + 1 - n : i + 1]) for i in range(len(x))]


def true_range(h, l, c):
    tr = []
    for i in range(len(c)):
        if i == 0:
            tr.append(h[i] - l[i])
        else:
            tr.append(max(h[i] - l[i], abs(h[i] - c[i - 1]), abs(l[i] - c[i - 1])))
    return tr


def pct_change_100(x, n):
    out = []
    for i in range(len(x)):
        if i < n or isnan(x[i]) or isnan(x[i - n]):
            out.append(NAN)
        elif x[i - n] == 0:
            out.append(NAN if x[i] == 0 else math.copysign(math.inf, x[i]))
        else:
            out.append((x[i] / x[i - n] - 1) * 100)
    return out


def pyfloat(v):
    """Python's str() of a float parameter, as the original writes it in column names."""
    return str(float(v))


# ---------------------------------------------------------------- indicators


def sma_ind(bars, p):
    period, source = p.get("period", 20), p.get("source", "close")
    return {f"sma_{period}": sma(col(bars, source), period)}


def ema_ind(bars, p):
    period, source = p.get("period", 20), p.get("source", "close")
    alpha = 2 / (period + 1)
    x = col(bars, source)
    y = ema_adjusted(x, alpha) if p.get("adjust", True) else ema_recursive(x, alpha)
    return {f"ema_{period}": y}


def zigzag_ind(bars, p):
    t, source = p.get("threshold", 0.05), p.get("source", "close")
    x = col(bars, source)
    z = [NAN] * len(x)
    z[0] = x[0]
    last_i, last, d = 0, x[0], 0
    for i in range(1, len(x)):
        ch = (x[i] - last) / last
        mark = False
        if d == 0:
            if abs(ch) >= t:
                d = 1 if ch > 0 else -1
                mark = True
        elif d == 1:
            if x[i] > last:
                z[last_i] = NAN
                mark = True
            elif ch <= -t:
                d = -1
                mark = True
        else:
            if x[i] < last:
                z[last_i] = NAN
                mark = True
            elif ch >= t:
                d = 1
                mark = True
        if mark:
            z[i] = x[i]
            last_i, last = i, x[i]
    return {f"ZigZag_{int(t * 100)}": z}


def psar_ind(bars, p):
    a0, step, amax = p.get("initial_af", 0.02), p.get("step_af", 0.02), p.get("max_af", 0.2)
    h, l, c = col(bars, "high"), col(bars, "low"), col(bars, "close")
    n = len(c)
    sar = [NAN] * n
    af = a0
    if c[1] > c[0]:
        up, ep, sar[1] = True, h[1], l[0]
    else:
        up, ep, sar[1] = False, l[1], h[0]
    for i in range(2, n):
        s = sar[i - 1] + af * (ep - sar[i - 1])
        if up:
            if l[i] <= s:
                up, s, af, ep = False, ep, a0, l[i]
            else:
                s = min(s, l[i - 1], l[i - 2])
                if h[i] > ep:
                    ep = h[i]
                    af = min(af + step, amax)
        else:
            if h[i] >= s:
                up, s, af, ep = True, ep, a0, h[i]
            else:
                s = max(s, h[i - 1], h[i - 2])
                if l[i] < ep:
                    ep = l[i]
                    af = min(af + step, amax)
        sar[i] = s
    return {f"ParabolicSAR_{pyfloat(a0)}_{pyfloat(step)}_{pyfloat(amax)}": sar}


def ichimoku_ind(bars, p):
    t, k = p.get("tenkan_period", 9), p.get("kijun_period", 26)
    sb, disp = p.get("senkou_b_period", 52), p.get("displacement", 26)
    h, l, c = col(bars, "high"), col(bars, "low"), col(bars, "close")

    def mid(n):
        return [(a + b) / 2 for a, b in zip(rolling(h, n, max), rolling(l, n, min))]

    tk, kj = mid(t), mid(k)
    base = f"Ichimoku_{t}_{k}_{sb}_{disp}"
    # The original shifts nothing by `displacement`; Chikou is the close itself.
    return {
        f"{base}_Tenkan_sen": tk,
        f"{base}_Kijun_sen": kj,
        f"{base}_Senkou_Span_A": [(a + b) / 2 for a, b in zip(tk, kj)],
        f"{base}_Senkou_Span_B": mid(sb),
        f"{base}_Chikou_Span": list(c),
    }


def aroon_ind(bars, p):
    n, osc = p.get("period", 14), p.get("include_oscillator", False)
    h, l = col(bars, "high"), col(bars, "low")
    up, down = [], []
    for i in range(len(h)):
        if i + 1 < n:
            up.append(NAN)
            down.append(NAN)
            continue
        wh, wl = h[i + 1 - n : i + 1], l[i + 1 - n : i + 1]
        since_h = (n - 1) - wh.index(max(wh))  # first occurrence, as numpy argmax
        since_l = (n - 1) - wl.index(min(wl))
        up.append((n - since_h) / n * 100)
        down.append((n - since_l) / n * 100)
    out = {f"Aroon_{n}_Up": up, f"Aroon_{n}_Down": down}
    if osc:
        out[f"Aroon_{n}_Oscillator"] = [a - b for a, b in zip(up, down)]
    return out


def adx_ind(bars, p):
    n = p.get("period", 14)
    h, l, c = col(bars, "high"), col(bars, "low"), col(bars, "close")
    m = len(c)
    tr = true_range(h, l, c)
    dmp, dmm = [0.0] * m, [0.0] * m
    for i in range(1, m):
        u, d = h[i] - h[i - 1], l[i - 1] - l[i]
        if u > d and u > 0:
            dmp[i] = u
        if d > u and d > 0:
            dmm[i] = d
    a = 1 / n
    trs, ps, ms = ema_recursive(tr, a), ema_recursive(dmp, a), ema_recursive(dmm, a)
    dip = [ps[i] / trs[i] * 100 if trs[i] != 0 else 0.0 for i in range(m)]
    dim = [ms[i] / trs[i] * 100 if trs[i] != 0 else 0.0 for i in range(m)]
    dx = [abs(dip[i] - dim[i]) / (dip[i] + dim[i]) * 100 if dip[i] + dim[i] != 0 else 0.0 for i in range(m)]
    adx = ema_recursive(dx, a)
    return {
        f"ADX_{n}": adx,
        f"DI_Plus_{n}": dip,
        f"DI_Minus_{n}": dim,
        f"DX_{n}": dx,
        f"TR_{n}": tr,
        f"ADX_Slope_{n}": [NAN if i < 3 else adx[i] - adx[i - 3] for i in range(m)],
        f"DI_Spread_{n}": [dip[i] - dim[i] for i in range(m)],
        f"ADX_Momentum_{n}": pct_change_100(adx, 5),
    }


def supertrend_ind(bars, p):
    n, mult = p.get("period", 10), float(p.get("multiplier", 3.0))
    h, l, c = col(bars, "high"), col(bars, "low"), col(bars, "close")
    m = len(c)
    atr = sma(true_range(h, l, c), n)
    up_b, lo_b = [NAN] * m, [NAN] * m
    for i in range(m):
        mid = (h[i] + l[i]) / 2
        bu, bl = mid + mult * atr[i], mid - mult * atr[i]
        # Fix of the original: a NaN previous final band takes the basic band (the original
        # carries the NaN forward, leaving every band NaN).
        if i == 0 or isnan(up_b[i - 1]) or bu < up_b[i - 1] or c[i - 1] > up_b[i - 1]:
            up_b[i] = bu
        else:
            up_b[i] = up_b[i - 1]
        if i == 0 or isnan(lo_b[i - 1]) or bl > lo_b[i - 1] or c[i - 1] < lo_b[i - 1]:
            lo_b[i] = bl
        else:
            lo_b[i] = lo_b[i - 1]
    st, direction, strength = [], [], []
    d = 1
    for i in range(m):
        prev = d
        if d == 1 and c[i] <= lo_b[i]:
            d = -1
        elif d == -1 and c[i] >= up_b[i]:
            d = 1
        st.append(lo_b[i] if d == 1 else up_b[i])
        direction.append(float(d))
        strength.append(1.0 if i == 0 or prev != d else strength[-1] + 1)
    s = f"{n}_{mult}"
    return {
        f"SuperTrend_{s}": st,
        f"ST_Direction_{s}": direction,
        f"ST_Upper_Band_{s}": up_b,
        f"ST_Lower_Band_{s}": lo_b,
        f"ST_ATR_{n}": atr,
        f"ST_Distance_{s}": [(c[i] - st[i]) / st[i] * 100 for i in range(m)],
        f"ST_Strength_{s}": strength,
        f"ST_Slope_{s}": pct_change_100(st, 3),
    }


def distance_ind(bars, p):
    n, kind, source = p.get("period", 20), p.get("ma_type", "SMA"), p.get("source", "close")
    x = col(bars, source)
    ma = ema_adjusted(x, 2 / (n + 1)) if kind == "EMA" else sma(x, n)
    out = []
    for v, a in zip(x, ma):
        if isnan(a):
            out.append(NAN)
        elif abs(a) > 1e-10:
            out.append((v - a) / a * 100)
        else:
            out.append(0.0)
    return {f"distancefromma_{n}_{kind}": out}


CASES = {
    "SimpleMovingAverage": (
        sma_ind,
        [("main", {"period": 3}), ("main", {}), ("main", {"period": 5, "source": "high"}), ("flat", {"period": 5})],
    ),
    "ExponentialMovingAverage": (
        ema_ind,
        [
            ("main", {"period": 3}),
            ("main", {"period": 5, "adjust": False}),
            ("main", {}),
            ("main", {"period": 4, "source": "low"}),
            ("flat", {"period": 5}),
        ],
    ),
    "ZigZagIndicator": (
        zigzag_ind,
        [("main", {"threshold": 0.01}), ("main", {}), ("main", {"threshold": 0.015, "source": "high"}), ("flat", {})],
    ),
    "ParabolicSARIndicator": (
        psar_ind,
        [("main", {}), ("main", {"initial_af": 0.05, "step_af": 0.05, "max_af": 0.3}), ("flat", {})],
    ),
    "IchimokuIndicator": (
        ichimoku_ind,
        [
            ("main", {"tenkan_period": 3, "kijun_period": 5, "senkou_b_period": 8, "displacement": 4}),
            ("main", {"tenkan_period": 9, "kijun_period": 26, "senkou_b_period": 30}),
            ("flat", {"tenkan_period": 3, "kijun_period": 5, "senkou_b_period": 8}),
        ],
    ),
    "AroonIndicator": (
        aroon_ind,
        [("main", {"period": 5, "include_oscillator": True}), ("main", {}), ("flat", {"period": 5})],
    ),
    "ADXIndicator": (
        adx_ind,
        [("main", {"period": 3}), ("main", {}), ("flat", {"period": 5})],
    ),
    "SuperTrendIndicator": (
        supertrend_ind,
        [("main", {"period": 3, "multiplier": 1.5}), ("main", {}), ("main", {"period": 5, "multiplier": 1}), ("flat", {"period": 3})],
    ),
    "DistanceFromMAIndicator": (
        distance_ind,
        [
            ("main", {"period": 5}),
            ("main", {"period": 5, "ma_type": "EMA"}),
            ("main", {}),
            ("flat", {"period": 5, "ma_type": "EMA"}),
        ],
    ),
}


def encode(v):
    if isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def main():
    with open(os.path.join(HERE, "bars.json")) as f:
        data = json.load(f)
    out = {}
    for ind, (fn, cases) in CASES.items():
        out[ind] = []
        for series, params in cases:
            res = fn(data[series], params)
            out[ind].append(
                {
                    "series": series,
                    "params": params,
                    "outputs": {k: [encode(v) for v in vs] for k, vs in res.items()},
                }
            )
    with open(os.path.join(HERE, "trend.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
