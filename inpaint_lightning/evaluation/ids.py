"""CoModGAN's discriminative scores (Zhao et al. 2021): how well a linear SVM tells real photos from fills.

P-IDS is how often a fill scores as more real than its own original; U-IDS is the SVM's misclassification rate
(1/2 when it cannot tell them apart, 0 when it always can). Deviation from the paper, which fits and scores the
SVM on the same 36,500 pairs of 2048-d Inception features: at the hundreds of fills a CPU benchmark has, an SVM
fitted on the scored pairs separates any two sets, so here it is fitted on one half of the pairs (split by a seeded
permutation) and scores the other half, on pooled low-dimensional features (:mod:`.embeddings`).
"""

from __future__ import annotations

import numpy as np


def discriminative_scores(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> dict[str, float]:
    """``{"p_ids", "u_ids", "ids_pairs"}`` of paired features (``N x D`` each; row i of ``fake`` is the fill of
    row i of ``real``), with the SVM fitted on half the pairs and scored on the other half (``ids_pairs``)."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.shape != fake.shape or real.ndim != 2 or len(real) < 4:
        raise ValueError(f"need paired N x D features with N >= 4, got {real.shape} and {fake.shape}")
    order = np.random.default_rng(seed).permutation(len(real))
    fit, held = order[: len(real) // 2], order[len(real) // 2 :]
    scaler = StandardScaler().fit(np.concatenate([real[fit], fake[fit]]))
    svm = LinearSVC(dual=False, C=1.0)
    svm.fit(
        scaler.transform(np.concatenate([real[fit], fake[fit]])), np.r_[np.ones(len(fit)), np.zeros(len(fit))]
    )
    r = svm.decision_function(scaler.transform(real[held]))  # > 0: called real
    f = svm.decision_function(scaler.transform(fake[held]))
    return {
        "p_ids": float(np.mean(f > r)),
        "u_ids": float(0.5 * (np.mean(r <= 0) + np.mean(f > 0))),
        "ids_pairs": float(len(held)),
    }
