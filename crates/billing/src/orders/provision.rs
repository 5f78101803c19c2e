//! Opening the resources a paid order bought. The built-in provisioner
//! opens them at once; for tests and the sandbox it can be told which
//! specs fail to open, so the refund of failed lines can be exercised.

use partner_api::pricing::v1 as pricing_pb;

/// Opens the resources of one order line, or says why it could not.
pub trait Provisioner: Send + Sync + std::fmt::Debug {
    fn open(&self, line: &pricing_pb::PeriodProductLine) -> Result<(), String>;
}

/// Resources open at once, except those of the specs configured to fail.
#[derive(Debug, Clone, Default)]
pub struct BuiltIn {
    failing_specs: Vec<String>,
}

impl BuiltIn {
    /// A provisioner that fails every line of `specs` (the fault hook).
    pub fn failing(specs: Vec<String>) -> Self {
        Self {
            failing_specs: specs,
        }
    }
}

impl Provisioner for BuiltIn {
    fn open(&self, line: &pricing_pb::PeriodProductLine) -> Result<(), String> {
        if self.failing_specs.contains(&line.spec) {
            return Err(format!(
                "resources of spec {} could not be opened (configured to fail)",
                line.spec
            ));
        }
        Ok(())
    }
}
