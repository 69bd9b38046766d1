"""MAD (maximum discrepancy) competition for classification: competing models score an
unlabelled pool, the images where two of them disagree confidently become candidates, people
rate the target's prediction on them, the worst get true labels, the target is fine-tuned on
them, and the pairwise results rank every model. Seed 002 and Wang et al., ICLR 2020."""
