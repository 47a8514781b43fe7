//! The generic harness for any backend's mock: launches a fresh mock of one of the
//! descriptor's variants over a fresh virtual printer, and opens the backend on it the way an
//! application would ([`Descriptor::open`]). No per-adapter harness code.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use polyprint::descriptor::{mock_endpoint, Expectations, MockOptions, MockVariant};
use polyprint::sim::VirtualPrinter;
use polyprint::transport::{HttpConfig, Secret};
use polyprint::{Descriptor, Endpoint, Printer};

use crate::harness::{Harness, MockControl, Target};

/// One variant of one backend's mock.
pub struct MockHarness {
    descriptor: &'static Descriptor,
    variant: &'static MockVariant,
    /// The printer id the mock serves, learnt at launch (for [`Harness::connect`]).
    printer_id: Mutex<Option<String>>,
}

impl MockHarness {
    /// The harness for `variant` of `descriptor`'s mock.
    pub fn new(descriptor: &'static Descriptor, variant: &'static MockVariant) -> MockHarness {
        MockHarness {
            descriptor,
            variant,
            printer_id: Mutex::new(None),
        }
    }

    /// One harness per variant of the backend's mock (none when it has no mock).
    pub fn all(descriptor: &'static Descriptor) -> Vec<MockHarness> {
        descriptor
            .mock_variants()
            .iter()
            .map(|v| MockHarness::new(descriptor, v))
            .collect()
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &'static Descriptor {
        self.descriptor
    }

    /// The variant.
    pub fn variant(&self) -> &'static MockVariant {
        self.variant
    }
}

#[async_trait]
impl Harness for MockHarness {
    /// The backend's name, with the variant's where the mock has several
    /// (`octoeverywhere-bambu`).
    fn name(&self) -> String {
        if self.descriptor.mock_variants().len() > 1 {
            format!("{}-{}", self.descriptor.name(), self.variant.name)
        } else {
            self.descriptor.name().to_string()
        }
    }

    async fn launch(&self) -> Result<Target, String> {
        let options = MockOptions {
            port: None,
            variant: Some(self.variant.name),
        };
        let mock = self
            .descriptor
            .start_mock(VirtualPrinter::new(), options)
            .await
            .ok_or_else(|| format!("{} has no mock", self.descriptor.name()))?;
        let endpoint = mock_endpoint(mock.as_ref());
        *self.printer_id.lock().unwrap_or_else(|p| p.into_inner()) = endpoint.printer_id.clone();
        let printer = self
            .descriptor
            .open(&endpoint, HttpConfig::default())
            .map_err(|e| e.to_string())?;
        Ok(Target {
            printer,
            control: Some(MockControl::of_boxed(mock)),
        })
    }

    fn connect(
        &self,
        base_url: &str,
        credential: &str,
        http: HttpConfig,
    ) -> Option<Arc<dyn Printer>> {
        let endpoint = Endpoint {
            url: Some(base_url.to_string()),
            credential: Some(Secret::new(credential)),
            printer_id: self
                .printer_id
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            ..Endpoint::default()
        };
        self.descriptor.open(&endpoint, http).ok()
    }

    fn expectations(&self) -> Expectations {
        self.variant.expect
    }
}
