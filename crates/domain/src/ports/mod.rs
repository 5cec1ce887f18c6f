//! Ports: the traits through which the domain reaches the outside world. Adapters implement
//! them (`crm2sage-sage-adapter` the ERP side, `crm2sage-store-sqlite` the store side); the
//! services are written against them only. Every port is `Send + Sync` and usable as
//! `Arc<dyn …>`; every operation documents its errors, and every error enum is
//! `#[non_exhaustive]` because other services embed these crates.

mod copy;
mod customer_index;
mod erp;
mod erp_customers;
mod erp_parties;
mod links;
mod parties;
mod party_errors;
mod party_promotions;
mod store;
mod store_errors;
mod system;

pub use copy::{
    CopyPage, CopySection, CountRows, ExportCursor, ExportPage, RowCounts, StoreExport, StoreImport,
};
pub use customer_index::{CustomerIndexState, CustomerIndexStore, IndexedCustomer};
#[cfg(feature = "test-support")]
pub use erp::MockErpGateway;
pub use erp::{
    ConnectError, CreateCustomerError, DocumentPage, ErpConnector, ErpCustomer, ErpCustomerKey,
    ErpGateway, ErpReadError, ErpReferenceRecord, NewErpCustomer, OrdersPage, PageCursor,
    ReferencePage,
};
pub use erp_customers::{CustomerPage, ErpCustomerStatus, ErpCustomerSummary};
pub use erp_parties::{
    ErpParty, ErpPartyKey, ErpWriteError, NewErpParty, NewErpPartyDetail, PartyFieldLimit,
    PartyHome, PartyPage,
};
pub use links::{BindingStore, LinkError, UnlinkError};
pub use parties::{
    AddContactError, AddShipToError, ContactStore, RemoveContactError, RemoveShipToError,
    ShipToStore,
};
pub use party_promotions::{PartyPromotionStore, RecordPartyIntentError};
pub use store::{
    AccountFilter, AccountStore, AddIntegrationError, BeginSyncError, FencedWriteError,
    IntegrationStore, LogEntry, LogEvent, LogPosition, PromotionStore, RecordIntentError,
    ReferenceStore, RemoveIntegrationError, SetDefaultError, Store, StoreError, SyncRunError,
    TakeOverError, UpdateAccountError, UpdateIntegrationError,
};
pub use system::{
    Clock, Credentials, FixedCredentials, Liveness, ProcessIdentity, Processes, SecretError,
    SecretSource, SystemClock,
};
