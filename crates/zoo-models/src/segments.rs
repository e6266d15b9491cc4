//! Networks as chains of segments, for shared-prefix evaluation.
//!
//! Every architecture runs as a chain `stem → … → head`; each segment owns the parameters
//! under its name prefixes. Members of a zoo differ only in a few parameters, so everything
//! before the first segment owning one of them (the *prefix*) is computed once and only the
//! *tail* runs per member.

/// One link of a network's forward chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Readable name (`layer3.2`, `blocks.3.mlp`, `head`).
    pub name: String,
    /// Dotted parameter-name prefixes owned by the segment.
    pub prefixes: Vec<String>,
}

impl Segment {
    /// A segment owning the parameters under `prefixes`.
    pub fn new<S: AsRef<str>>(name: &str, prefixes: impl IntoIterator<Item = S>) -> Self {
        Self {
            name: name.to_string(),
            prefixes: prefixes.into_iter().map(|p| p.as_ref().to_string()).collect(),
        }
    }

    /// Whether the dotted parameter `name` belongs to this segment.
    pub fn owns(&self, name: &str) -> bool {
        self.prefixes.iter().any(|prefix| {
            name == prefix
                || (name.starts_with(prefix.as_str()) && name[prefix.len()..].starts_with('.'))
        })
    }
}

/// Index of the first segment owning any of `names`, or `None` if none does.
pub fn first_owner<S: AsRef<str>>(segments: &[Segment], names: &[S]) -> Option<usize> {
    segments.iter().position(|segment| names.iter().any(|n| segment.owns(n.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_respects_dot_boundaries() {
        let segment = Segment::new("layer1.1", ["layer1.1"]);
        assert!(segment.owns("layer1.1.bn1.weight"));
        assert!(!segment.owns("layer1.10.bn1.weight"));
        assert!(!segment.owns("layer1.0.bn1.weight"));
    }

    #[test]
    fn first_owner_finds_earliest_segment() {
        let segments = vec![
            Segment::new("stem", ["conv1", "bn1"]),
            Segment::new("b", ["layer1.0"]),
            Segment::new("head", ["fc"]),
        ];
        assert_eq!(first_owner(&segments, &["fc.weight", "layer1.0.bn2.bias"]), Some(1));
        assert_eq!(first_owner(&segments, &["nothing"]), None);
    }
}
