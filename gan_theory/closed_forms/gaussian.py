"""Closed forms for Gaussian pairs: KL (Normal, Independent, MultivariateNormal), the chi^2
divergences and W1 of two Normals, in stable forms with error bounds."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.distributions as td
from scipy.special import ndtr

from ..logspace import phi_kl
from ..results import AccuracyError
from .registry import _EPS, closed_form, register_closed_form


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).numpy()


def _log_scale_ratio(sp: np.ndarray, sq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``s = log(s_p / s_q)`` and a bound on its absolute error, for positive scales.

    Three forms, each accurate where it is used: ``log1p((s_p - s_q) / s_q)`` for a ratio in
    [1/2, 2] (the subtraction is exact there, so a tiny ``s`` keeps its relative accuracy);
    ``log(s_p / s_q)`` for a ratio that is a normal float64 (error a few ulps of 1 + |s|); and
    ``log(s_p) - log(s_q)`` when the ratio underflows or overflows. The first form used
    everywhere loses ``s`` when ``s_p << s_q``: ``(s_p - s_q) / s_q`` rounds near -1.
    """
    sp, sq = np.broadcast_arrays(np.asarray(sp, dtype=np.float64), np.asarray(sq, dtype=np.float64))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        ratio = sp / sq
        near = (ratio >= 0.5) & (ratio <= 2.0)
        normal = (ratio >= np.finfo(np.float64).tiny) & np.isfinite(ratio) & ~near
        lsp, lsq = np.log(sp), np.log(sq)
        s = np.where(near, np.log1p((sp - sq) / sq), np.where(normal, np.log(ratio), lsp - lsq))
    err = np.where(near, 4 * _EPS * np.abs(s),
                   np.where(normal, 4 * _EPS * (1.0 + np.abs(s)),
                            4 * _EPS * (np.abs(lsp) + np.abs(lsq) + np.abs(s))))
    return s, err


def _normal_terms(p: td.Normal, q: td.Normal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element-wise KL of Normals (broadcast over the batch): value, error bound and log value.

    ``KL = [phi(-2 s) + t] / 2`` with ``s = log(s_p / s_q)``, ``phi(r) = e^{-r} - 1 + r`` and
    ``t = ((mu_p - mu_q) / s_q)^2``. The value is ``inf`` where it overflows float64 (it is
    always finite); the log value is then ``log((e^{2s} + t) / 2)`` to float64 accuracy.
    """
    sp, sq = p.scale.detach().numpy(), q.scale.detach().numpy()
    s, ds = _log_scale_ratio(sp, sq)
    dmu = (p.loc - q.loc).detach().numpy()
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        phi = phi_kl(-2.0 * s)
        t = (dmu / sq) ** 2
        value = 0.5 * (phi + t)
        # d phi(-2s) / ds = 2 (e^{2s} - 1); phi's own rounding a few ulps; t: 3 roundings
        err = np.abs(np.expm1(2.0 * s)) * ds + 8 * _EPS * value
        log_t = 2.0 * (np.log(np.abs(dmu)) - np.log(sq))
        log_value = np.logaddexp(2.0 * s, log_t) - math.log(2.0)
        value, err, log_value = np.broadcast_arrays(value, err, log_value)
        log_value = np.where(np.isfinite(value), np.log(np.where(np.isfinite(value), value, 1.0)), log_value)
    return value, err, log_value


def _overflow_error(label: str, log_value: np.ndarray, value: np.ndarray) -> AccuracyError:
    bad = np.flatnonzero(~np.isfinite(np.atleast_1d(value)))
    i = int(bad[0])
    lv = float(np.atleast_1d(log_value)[i])
    where = "" if np.ndim(value) == 0 else f" (batch element {i})"
    about = f"its natural log is {lv:.17g} (also in the error's log_estimate)" if math.isfinite(lv) else \
        "even its natural log exceeds the largest float64"
    return AccuracyError(f"{label} is finite but exceeds the largest float64 ({np.finfo(np.float64).max:.4g})"
                         f"{where}: {about}", estimate=math.inf, error=math.inf, log_estimate=lv)


@register_closed_form("kl", td.Normal, td.Normal)
def _kl_normal_normal(p: td.Normal, q: td.Normal):
    """KL(N(mu_p, s_p^2) || N(mu_q, s_q^2)) = [e^{2s} - 1 - 2s + (mu_p - mu_q)^2 / s_q^2] / 2,
    ``s = log(s_p / s_q)`` (see :func:`_log_scale_ratio`). Raises AccuracyError (with the log
    of the value) where the value overflows float64."""
    v, e, lv = _normal_terms(p, q)
    if not np.all(np.isfinite(v)):
        raise _overflow_error("KL", lv, v)
    return v, e


@register_closed_form("kl", td.Independent, td.Independent)
def _kl_independent(p: td.Independent, q: td.Independent):
    if isinstance(p.base_dist, td.Normal) and isinstance(q.base_dist, td.Normal) \
            and p.reinterpreted_batch_ndims == q.reinterpreted_batch_ndims:
        axes = tuple(range(-p.reinterpreted_batch_ndims, 0))
        terms, errs, logs = _normal_terms(p.base_dist, q.base_dist)
        with np.errstate(over="ignore"):
            v = np.sum(terms, axis=axes)
        e = np.sum(errs, axis=axes) + 4 * _EPS * v
        if not np.all(np.isfinite(v)):
            from scipy.special import logsumexp
            raise _overflow_error("KL", logsumexp(logs, axis=axes), v)
        return v, e
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    found = closed_form("kl", p.base_dist, q.base_dist)
    if found is None:
        raise NotImplementedError
    axes = tuple(range(-p.reinterpreted_batch_ndims, 0))
    v, e = np.asarray(found[0]), np.asarray(found[1])
    with np.errstate(over="ignore"):
        total = np.sum(v, axis=axes)
    return total, np.sum(e, axis=axes) + 4 * _EPS * v.size * np.abs(total)


def _fro(a: torch.Tensor) -> np.ndarray:
    """Frobenius norms over the last two axes."""
    return torch.linalg.matrix_norm(a, ord="fro").numpy()


@register_closed_form("kl", td.MultivariateNormal, td.MultivariateNormal)
def _kl_mvn_mvn(p: td.MultivariateNormal, q: td.MultivariateNormal):
    """KL = [sum_i (lambda_i - 1 - log lambda_i) + d^T S_q^{-1} d] / 2, ``lambda_i`` the
    eigenvalues of ``S_q^{-1} S_p``, ``d = mu_p - mu_q``.

    Two forms. Where every ``lambda_i`` lies in [1/2, 2], the trace term is
    ``sum_i phi(-log1p(mu_i))`` with ``mu_i = lambda_i - 1`` the eigenvalues of
    ``L_q^{-1} (S_p - S_q) L_q^{-T}`` (``S_q = L_q L_q^T``): a tiny KL keeps its relative
    accuracy. Elsewhere (the KL is then at least 0.09) it is
    ``||L_q^{-1} L_p||_F^2 - k - 2 sum_i log(L_p)_ii + 2 sum_i log(L_q)_ii`` (Cholesky log
    determinants, triangular solves): no eigenvalue near 0 is rounded to 0, as with
    covariances diag(1e-24, 1) against the identity.

    The error bound adds the Cholesky factorisation's error for each covariance (counted even
    when the user gave ``scale_tril``, which cannot be told apart once torch has cached it; the
    bound is then pessimistic). Cholesky is backward stable componentwise (Higham, *Accuracy and Stability of
    Numerical Algorithms*, 2nd ed., Thm 10.3): ``L L^T = S + E`` with
    ``|E_ij| <= g sqrt(S_ii S_jj)``, ``g = gamma_{k+1} ~ (k+1) eps``. With ``D = diag(S)^{1/2}``,
    ``E = D F D`` and ``||F||_2 <= k g``. To first order, ``d KL = [tr(S_q^{-1} E_p)
    - tr(S_p^{-1} E_p) - tr(S_q^{-1} E_q S_q^{-1} S_p) + tr(S_q^{-1} E_q)
    - d^T S_q^{-1} E_q S_q^{-1} d] / 2``, and ``|tr(A D F D)| <= ||F|| tr(D A D)`` for a positive
    semi-definite ``A``, so

    ``|d KL| <= k g [||L_q^{-1} D_p||_F^2 + k / lambda_min(C_p) + ||L_p^T S_q^{-1} D_q||_F^2
    + ||L_q^{-1} D_q||_F^2 + ||D_q S_q^{-1} d||^2] / 2``,

    ``C = D^{-1} S D^{-1}`` the correlation matrix (``k / lambda_min(C) >= tr(D S^{-1} D)``):
    a term ``eps cond(C)`` for each covariance. It is doubled for the second order, and
    infinite when ``k g / lambda_min(C) > 1/2`` (the factor may not describe a nearby
    covariance at all). With S = [[1, r], [r, 1]], r = 1 - 1e-12, this is about 1e-3: the old
    bound of 4.6e-14 missed an error of 2.5e-13.
    """
    # torch caches a computed scale_tril exactly as a given one, so which of the two the user
    # gave cannot be told reliably: the factorisation error is always counted (for a given
    # scale_tril the bound is then pessimistic by a term eps cond(C))
    factored = (True, True)
    lq, lp = q.scale_tril, p.scale_tril
    lp, lq = torch.broadcast_tensors(lp, lq)
    k = lq.shape[-1]
    eye = torch.eye(k, dtype=lq.dtype).expand_as(lq)
    lq_inv = torch.linalg.solve_triangular(lq, eye, upper=False)
    n_lqinv, n_lq, n_lp = _fro(lq_inv), _fro(lq), _fro(lp)
    cond = n_lqinv * n_lq  # >= the 2-norm condition number of L_q
    # the near form
    sp_, sq_ = lp @ lp.mT, lq @ lq.mT
    a = torch.linalg.solve_triangular(lq, sp_ - sq_, upper=False)
    m = torch.linalg.solve_triangular(lq, a.mT, upper=False)
    m = 0.5 * (m + m.mT)
    mu = torch.linalg.eigvalsh(m).numpy()
    # rounding of S_p - S_q (a few ulps of |S_p| + |S_q|) times |L_q^{-1}|^2, and of the
    # solves and the eigenvalues (a few ulps of cond * |m|)
    dmu = 16 * _EPS * (n_lqinv ** 2 * (n_lp ** 2 + n_lq ** 2) + cond * _fro(m))
    near = np.all((mu > -0.5) & (mu <= 1.0), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        trace_near = np.sum(phi_kl(-np.log1p(np.clip(mu, -0.5, 1.0))), axis=-1)
        err_near = np.sum(np.abs(mu / (1.0 + mu)), axis=-1) * dmu
    # the far form
    mm = torch.linalg.solve_triangular(lq, lp, upper=False)
    big = mm.abs().amax(dim=(-2, -1)).numpy()
    scaled = (mm / torch.as_tensor(np.where(big > 0, big, 1.0))[..., None, None])
    log_fro2 = 2.0 * np.log(big) + np.log((scaled ** 2).sum(dim=(-2, -1)).numpy())
    with np.errstate(over="ignore"):
        fro2 = np.exp(log_fro2)
    ldp = torch.log(torch.diagonal(lp, dim1=-2, dim2=-1))
    ldq = torch.log(torch.diagonal(lq, dim1=-2, dim2=-1))
    logdet = 2.0 * (ldp - ldq).sum(-1).numpy()
    err_logdet = 8 * _EPS * (ldp.abs().sum(-1) + ldq.abs().sum(-1)).numpy() + 8 * _EPS
    trace_far = fro2 - k - logdet
    err_far = 16 * _EPS * cond * fro2 + err_logdet + 4 * _EPS * (fro2 + k + np.abs(logdet))
    trace = np.where(near, trace_near, trace_far)
    err_trace = np.where(near, err_near, err_far)
    # Mahalanobis term: z = L_q^{-1} d
    d = (p.loc - q.loc).unsqueeze(-1)
    z = torch.linalg.solve_triangular(lq, d, upper=False)
    zn = torch.linalg.vector_norm(z, dim=(-2, -1)).numpy()
    dn = torch.linalg.vector_norm(d, dim=(-2, -1)).numpy()
    with np.errstate(over="ignore"):
        maha = zn ** 2
        err_maha = 2 * zn * 8 * _EPS * (cond * zn + n_lqinv * (dn + torch.linalg.vector_norm(
            p.loc, dim=-1).numpy() + torch.linalg.vector_norm(q.loc, dim=-1).numpy())) + 4 * _EPS * maha
        v = 0.5 * (trace + maha)
        e = 0.5 * (err_trace + err_maha) + 4 * _EPS * v
    if not np.all(np.isfinite(v)):
        lv = np.logaddexp(log_fro2, 2.0 * np.log(zn)) - math.log(2.0)
        raise _overflow_error("KL", lv, v)
    return v, e + _mvn_cholesky_error(p, q, factored, lp, lq, lq_inv, d)


def _mvn_cholesky_error(p, q, factored, lp, lq, lq_inv, d) -> np.ndarray:
    """The first-order bound on the KL's change from the Cholesky factorisations' backward
    errors, doubled (see :func:`_kl_mvn_mvn`)."""
    k = lq.shape[-1]
    fnorm = k * (k + 1) * _EPS / (1.0 - (k + 1) * _EPS)

    def scaled(dist, factored):
        if not factored:
            return None, None
        cov = dist.covariance_matrix.detach()
        dd = torch.sqrt(torch.diagonal(cov, dim1=-2, dim2=-1))
        corr = cov / (dd[..., :, None] * dd[..., None, :])
        lam = torch.linalg.eigvalsh(0.5 * (corr + corr.mT))[..., 0].numpy() - 4 * k * _EPS
        return dd, lam

    dp_, lam_p = scaled(p, factored[0])
    dq_, lam_q = scaled(q, factored[1])
    total = np.zeros(np.broadcast_shapes(lq.shape[:-2], lp.shape[:-2]))
    bad = np.zeros(total.shape, dtype=bool)
    if dp_ is not None:
        dp_ = dp_.expand(lq.shape[:-1])
        a1 = ((lq_inv * dp_[..., None, :]) ** 2).sum(dim=(-2, -1)).numpy()
        with np.errstate(divide="ignore"):
            total = total + fnorm * (a1 + k / np.maximum(lam_p, 0.0))
        bad |= ~(fnorm / np.maximum(lam_p, 0.0) <= 0.5)
    if dq_ is not None:
        dq_ = dq_.expand(lq.shape[:-1])
        sq_inv = lq_inv.mT @ lq_inv
        a3 = ((lp.mT @ sq_inv * dq_[..., None, :]) ** 2).sum(dim=(-2, -1)).numpy()
        a4 = ((lq_inv * dq_[..., None, :]) ** 2).sum(dim=(-2, -1)).numpy()
        a5 = ((dq_[..., :, None] * (sq_inv @ d)) ** 2).sum(dim=(-2, -1)).numpy()
        total = total + fnorm * (a3 + a4 + a5)
        bad |= ~(fnorm / np.maximum(lam_q, 0.0) <= 0.5)
    return np.where(bad, np.inf, total)  # doubled and halved: the 1/2 of the KL, times 2


def _chi2_normal(p: td.Normal, q: td.Normal):
    """Pearson chi^2(p || q) = integral p^2 / q - 1 of two Normals, with rho = s_p / s_q:

    .. math::  \\chi^2 = \\frac{s_q^2}{s_p \\sqrt{2 s_q^2 - s_p^2}}
               \\exp\\Big(\\frac{(\\mu_p - \\mu_q)^2}{2 s_q^2 - s_p^2}\\Big) - 1
               = \\mathrm{expm1}\\Big(-\\tfrac12 \\log(1 - w^2) + \\frac{t}{1 + w}\\Big),

    ``w = 1 - rho^2``, ``t = (mu_p - mu_q)^2 / s_q^2``: finite iff ``rho^2 < 2`` (``inf``
    otherwise: ``p^2 / q`` grows without bound). ``w`` is formed as ``(s_q - s_p)(s_q + s_p) /
    s_q^2`` so that nearly equal scales keep a tiny chi^2's relative accuracy. Raises
    AccuracyError, with the log of the value, where it is finite but overflows float64.
    """
    sp, sq = np.broadcast_arrays(p.scale.detach().numpy(), q.scale.detach().numpy())
    dmu = (p.loc - q.loc).detach().numpy()
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        rho = sp / sq
        w = ((sq - sp) / sq) * ((sq + sp) / sq)
        c = 1.0 + w  # 2 - rho^2
        finite = (rho * rho < 2.0) & (c > 0)
        t = (dmu / sq) ** 2
        # -log(rho) - log(2 - rho^2) / 2: as -log1p(-w^2) / 2 for rho in [1/2, 2] (w exact to a
        # few ulps there, the subtraction being exact), else with s = log(rho) directly (w
        # rounds to 1 when s_p << s_q, and log1p(-1) is -inf)
        s_, ds = _log_scale_ratio(sp, sq)
        near = (rho >= 0.5) & (rho <= 2.0)
        l1 = np.where(near, -0.5 * np.log1p(-(w * w)), -s_ - 0.5 * np.log(2.0 - rho * rho))
        la = l1 + t / c
        value = np.where(finite, np.expm1(la), np.inf)
        # w carries a few ulps of relative error: -log1p(-w^2)/2 moves by that times
        # w^2 / (1 - w^2) = w^2 / (rho^2 c); c = 1 + w by (1 + |w|)/c ulps (large as rho^2 -> 2,
        # where chi^2 -> inf), and t / c with it
        cs = np.where(finite, c, 1.0)
        dc = (1.0 + np.abs(w)) / cs
        dla = 8 * _EPS * (np.where(near, w * w / (rho * rho * cs), 1.0) + np.abs(l1)
                          + (t / cs) * (2.0 + dc) + np.abs(la)) + np.where(near, 0.0, ds)
        err = np.where(finite, np.exp(np.minimum(la, 709.0)) * dla + 4 * _EPS * value, 0.0)
        log_value = np.where(la > 1.0, la + np.log1p(-np.exp(-la)), np.log(np.abs(value)))
    value, err, log_value = np.broadcast_arrays(value, err, log_value)
    if np.any(finite & ~np.isfinite(value)):
        raise _overflow_error("chi^2", np.where(finite, log_value, -np.inf), np.where(finite, value, 0.0))
    return value, err


@register_closed_form("pearson", td.Normal, td.Normal)
def _pearson_normal_normal(p: td.Normal, q: td.Normal):
    """Pearson chi^2(p || q) of two Normals (see :func:`_chi2_normal`)."""
    return _chi2_normal(p, q)


@register_closed_form("neyman", td.Normal, td.Normal)
def _neyman_normal_normal(p: td.Normal, q: td.Normal):
    """Neyman chi^2(p || q) = Pearson chi^2(q || p)."""
    return _chi2_normal(q, p)


@register_closed_form("wasserstein1", td.Normal, td.Normal)
def _w1_normal_normal(p: td.Normal, q: td.Normal):
    """W1 = E|a + b Z| = a (1 - 2 Phi(-a/b)) + 2 b phi(a/b), a = mu_p - mu_q, b = |s_p - s_q|
    (the quantile coupling; the mean of a folded normal)."""
    a = (p.loc - q.loc).numpy()
    b = np.abs((p.scale - q.scale).numpy())
    a, b = np.broadcast_arrays(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = a / b
        folded = a * (1.0 - 2.0 * ndtr(-z)) + 2.0 * b * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    v = np.where(b == 0.0, np.abs(a), folded)
    return v, np.where(b == 0.0, 4 * _EPS * np.abs(a), 32 * _EPS * (np.abs(a) + b))
