use std::fmt;

/// Why a policy file (or one object in it) was rejected at load. Printed as
/// `file:line: ValidatingAdmissionPolicy/name: spec.validations[1].expression: message`, so a user
/// can go straight to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub file: String,
    /// 1-based line of the offending field (or of its nearest written parent), when known.
    pub line: Option<u32>,
    /// `Kind/name` of the object, empty when the file itself could not be read.
    pub object: String,
    /// Field path inside the object (`spec.validations[1].expression`), empty for whole-object errors.
    pub field: String,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.object.is_empty() {
            write!(f, ": {}", self.object)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All the errors of one load, so a user fixes a file in one pass rather than one error at a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
