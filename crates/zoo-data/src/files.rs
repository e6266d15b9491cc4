//! Reading whole files, with gzip detection, into [`DataError`]s that name the file.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::DataError;

/// Reads a whole file; a missing file is [`DataError::Missing`] described by `what`.
pub(crate) fn read(path: &Path, what: &str) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            DataError::Missing { path: path.to_path_buf(), what: what.to_string() }
        } else {
            DataError::Io { path: path.to_path_buf(), error }
        }
    })
}

/// Reads a file and gunzips it when its name ends in `.gz` or it starts with the gzip magic.
pub(crate) fn read_maybe_gz(path: &Path, what: &str) -> Result<Vec<u8>, DataError> {
    let bytes = read(path, what)?;
    let named_gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    if named_gz || bytes.starts_with(&[0x1f, 0x8b]) { gunzip(path, &bytes) } else { Ok(bytes) }
}

/// Decompresses gzip data (all members) read from `path`.
pub(crate) fn gunzip(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(DataError::Gzip {
            path: path.to_path_buf(),
            detail: "not gzip data (missing 1f 8b magic)".into(),
        });
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip { path: path.to_path_buf(), detail: e.to_string() })?;
    Ok(out)
}

/// The first of `names` (each also tried with `.gz`) that exists in `dir`.
pub(crate) fn find_first(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|name| {
        [name.to_string(), format!("{name}.gz")]
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    })
}

/// Sub-folders of `dir` (hidden ones skipped), sorted by name.
pub(crate) fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, DataError> {
    let mut out = Vec::new();
    for entry in read_dir(dir)? {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && path.is_dir() {
            out.push((name, path));
        }
    }
    out.sort();
    Ok(out)
}

/// Entries of a folder, errors naming it.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, DataError> {
    let io_error = |error: io::Error| {
        if error.kind() == io::ErrorKind::NotFound {
            DataError::Missing { path: dir.to_path_buf(), what: "folder".into() }
        } else {
            DataError::Io { path: dir.to_path_buf(), error }
        }
    };
    std::fs::read_dir(dir).map_err(io_error)?.map(|e| e.map_err(io_error)).collect()
}
