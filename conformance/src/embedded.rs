//! The harness for the virtual printer used directly as a backend (`sim`): full mock control,
//! no network.

use std::sync::Arc;

use async_trait::async_trait;
use polyprint::descriptor::Expectations;
use polyprint::sim::{SimConfig, VirtualPrinter};
use polyprint::transport::HttpConfig;
use polyprint::Printer;

use crate::harness::{Harness, MockControl, Target};

/// Launches fresh [`VirtualPrinter`]s with a given configuration.
#[derive(Clone, Debug)]
pub struct SimHarness {
    name: String,
    config: SimConfig,
}

impl SimHarness {
    /// A harness for the default virtual printer (every feature), named `sim`.
    pub fn new() -> SimHarness {
        SimHarness::with_config("sim", SimConfig::default())
    }

    /// A harness for virtual printers built with `config` (e.g. fewer features).
    pub fn with_config(name: impl Into<String>, config: SimConfig) -> SimHarness {
        SimHarness {
            name: name.into(),
            config,
        }
    }
}

impl Default for SimHarness {
    fn default() -> Self {
        SimHarness::new()
    }
}

#[async_trait]
impl Harness for SimHarness {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn launch(&self) -> Result<Target, String> {
        let printer = VirtualPrinter::with_config(self.config.clone());
        Ok(Target {
            printer: Arc::new(printer.clone()),
            control: Some(MockControl::embedded(printer)),
        })
    }

    fn expectations(&self) -> Expectations {
        polyprint::sim::DESCRIPTOR.expectations()
    }

    fn connect(
        &self,
        _base_url: &str,
        _credential: &str,
        _http: HttpConfig,
    ) -> Option<Arc<dyn Printer>> {
        None
    }
}
