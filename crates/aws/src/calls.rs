//! Every API call a scan makes: counted, timed, and offered to an observer (for `--verbose`).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One HTTP attempt of one API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `service:Operation`, with the IAM service prefix (`ec2:DescribeVpcs`).
    pub api: String,
    pub region: Option<String>,
    pub duration: Duration,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
}

type Observer = Arc<dyn Fn(&Call) + Send + Sync>;

/// A shared log of calls; clone it freely, every clone records into the same log.
#[derive(Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
    observer: Option<Observer>,
}

impl fmt::Debug for CallLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLog").field("calls", &self.calls().len()).finish()
    }
}

impl CallLog {
    pub fn new() -> CallLog {
        CallLog::default()
    }

    /// Also hand each call to `observer` as it completes.
    pub fn with_observer(observer: impl Fn(&Call) + Send + Sync + 'static) -> CallLog {
        CallLog {
            calls: Arc::default(),
            observer: Some(Arc::new(observer)),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Attempts per API.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for c in self.calls() {
            *counts.entry(c.api).or_insert(0) += 1;
        }
        counts
    }

    /// An interceptor recording calls of one service under its IAM prefix.
    pub(crate) fn interceptor(&self, iam_prefix: &'static str) -> CallRecorder {
        CallRecorder {
            log: self.clone(),
            iam_prefix,
        }
    }

    fn record(&self, call: Call) {
        if let Some(observer) = &self.observer {
            observer(&call);
        }
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
    }
}

#[derive(Debug, Clone)]
struct AttemptStart(Instant);

impl Storable for AttemptStart {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone)]
pub(crate) struct CallRecorder {
    log: CallLog,
    iam_prefix: &'static str,
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "netaudit-call-recorder"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(AttemptStart(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("Unknown", |m| m.name()).to_owned();
        let region = cfg.load::<aws_types::region::Region>().map(|r| r.to_string());
        let duration = cfg.load::<AttemptStart>().map_or(Duration::ZERO, |s| s.0.elapsed());
        let status = context.response().map(|r| r.status().as_u16());
        self.log.record(Call {
            api: format!("{}:{operation}", self.iam_prefix),
            region,
            duration,
            status,
        });
        Ok(())
    }
}
