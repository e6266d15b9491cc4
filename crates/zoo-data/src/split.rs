//! Deterministic, stratified splitting.

/// SplitMix64: a tiny PRNG whose output is fixed forever (unlike `rand`'s `StdRng`), so a
/// seed always yields the same split.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Splits sample indices into groups of the given `fractions`, keeping each class's share
/// in every group (stratified), deterministically for a `seed`.
///
/// Group `k` gets `round(n·(f0+…+fk)) − round(n·(f0+…+f(k−1)))` samples in all (cumulative
/// sums are clamped to 1, negative or non-finite fractions count as 0; fractions summing
/// to less than 1 leave the rest unassigned). Within a group each class `c` with `n_c`
/// samples gets `⌊n_c·size/n⌋` samples, and the few left over go to the classes with the
/// largest remainders (ties broken by a seeded class order). Which samples of a class go
/// where is decided by a seeded shuffle. Each returned group is sorted ascending.
///
/// ```
/// let labels = [0u16, 0, 0, 0, 1, 1, 1, 1, 1, 1];
/// let groups = zoo_data::stratified_split(&labels, &[0.5, 0.5], 7);
/// assert_eq!(groups[0].len(), 5);
/// assert_eq!(groups[0].iter().filter(|&&i| labels[i] == 0).count(), 2);
/// ```
pub fn stratified_split(labels: &[u16], fractions: &[f64], seed: u64) -> Vec<Vec<usize>> {
    let n = labels.len();
    if n == 0 {
        return vec![Vec::new(); fractions.len()];
    }
    let classes = labels.iter().map(|&l| usize::from(l) + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &label) in labels.iter().enumerate() {
        members[usize::from(label)].push(i);
    }
    let mut rng = SplitMix64::new(seed);
    for m in &mut members {
        rng.shuffle(m);
    }
    // Seeded class order for tie-breaks, so no class is always favoured.
    let mut class_order: Vec<usize> = (0..classes).collect();
    rng.shuffle(&mut class_order);

    let mut taken = vec![0usize; classes];
    let mut groups = Vec::with_capacity(fractions.len());
    let mut cumulative = 0.0f64;
    let mut assigned = 0usize;
    for &fraction in fractions {
        let fraction = if fraction.is_finite() && fraction > 0.0 { fraction } else { 0.0 };
        cumulative = (cumulative + fraction).min(1.0);
        let total = ((n as f64) * cumulative).round() as usize;
        let size = total.saturating_sub(assigned).min(n - assigned);
        assigned += size;

        // Per class: floor of the proportional quota, capped by what the class has left.
        let mut counts = vec![0usize; classes];
        let mut remainders = vec![0usize; classes];
        let mut given = 0usize;
        for c in 0..classes {
            let quota = members[c].len() * size;
            counts[c] = (quota / n).min(members[c].len() - taken[c]);
            remainders[c] = quota % n;
            given += counts[c];
        }
        // Largest remainders first; repeat passes until the group is full.
        let mut order = class_order.clone();
        order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]));
        while given < size {
            let before = given;
            for &c in &order {
                if given == size {
                    break;
                }
                if taken[c] + counts[c] < members[c].len() {
                    counts[c] += 1;
                    given += 1;
                }
            }
            if given == before {
                break; // no capacity left (cannot happen while sizes add up to ≤ n)
            }
        }
        let mut group = Vec::with_capacity(size);
        for c in 0..classes {
            group.extend_from_slice(&members[c][taken[c]..taken[c] + counts[c]]);
            taken[c] += counts[c];
        }
        group.sort_unstable();
        groups.push(group);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(per_class: &[usize]) -> Vec<u16> {
        per_class.iter().enumerate().flat_map(|(c, &k)| std::iter::repeat_n(c as u16, k)).collect()
    }

    fn class_counts(labels: &[u16], group: &[usize], classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &i in group {
            counts[usize::from(labels[i])] += 1;
        }
        counts
    }

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 0 of the reference SplitMix64 (Vigna).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn sizes_and_strata() {
        let labels = labels(&[100, 50, 30, 20]);
        let groups = stratified_split(&labels, &[0.8, 0.1, 0.1], 3);
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [160, 20, 20]);
        assert_eq!(class_counts(&labels, &groups[1], 4), [10, 5, 3, 2]);
        assert_eq!(class_counts(&labels, &groups[0], 4), [80, 40, 24, 16]);
        // A partition: every index exactly once.
        let mut all: Vec<usize> = groups.concat();
        all.sort_unstable();
        assert_eq!(all, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn uneven_classes_use_largest_remainders() {
        let labels = labels(&[7, 7, 7, 3]);
        let groups = stratified_split(&labels, &[0.9, 0.1], 11);
        // 24 samples: round(21.6) = 22 train, 2 val; no class gets more than one in val.
        assert_eq!(groups[0].len(), 22);
        assert_eq!(groups[1].len(), 2);
        assert!(class_counts(&labels, &groups[1], 4).iter().all(|&k| k <= 1));
    }

    #[test]
    fn deterministic_per_seed() {
        let labels = labels(&[40, 40, 40]);
        let a = stratified_split(&labels, &[0.7, 0.3], 5);
        assert_eq!(a, stratified_split(&labels, &[0.7, 0.3], 5));
        assert_ne!(a, stratified_split(&labels, &[0.7, 0.3], 6));
    }

    #[test]
    fn partial_and_degenerate_fractions() {
        let labels = labels(&[10, 10]);
        let groups = stratified_split(&labels, &[0.25], 0);
        assert_eq!(groups[0].len(), 5);
        let groups = stratified_split(&labels, &[f64::NAN, -1.0, 2.0, 0.5], 0);
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [0, 0, 20, 0]);
        assert_eq!(stratified_split(&[], &[0.5, 0.5], 0), vec![Vec::<usize>::new(); 2]);
    }
}
