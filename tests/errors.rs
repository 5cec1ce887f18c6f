//! Every public error of the library has a stable code from the one list (docs/cli.md's error
//! kinds table), the class that table gives it, and a text that names no CLI flag or command.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use crm2sage_domain::ports::{
    AddContactError, AddIntegrationError, AddShipToError, BeginSyncError, ConnectError,
    CreateCustomerError, ErpReadError, FencedWriteError, RecordIntentError, RemoveContactError,
    RemoveIntegrationError, RemoveShipToError, SecretError, SetDefaultError, StoreError,
    SyncRunError, TakeOverError, UpdateAccountError, UpdateIntegrationError,
};
use crm2sage_domain::ports::{
    ErpCustomerKey, ErpPartyKey, ErpWriteError, LinkError, RecordPartyIntentError, UnlinkError,
};
use crm2sage_domain::services::{
    AccountError, ContactError, CopyError, CrashPoint, CustomerSyncError, DetailsError,
    GatewayError, IntegrationError, LinkAccountError, MatchError, PartyPromoteError, PromoteError,
    ReconcileError, RecoverError, ResolveError, ShipToError, SyncError, UnlinkAccountError,
};
use crm2sage_domain::{
    AccountId, AccountName, ArDivision, Binding, CompanyCode, CountryCode, CurrencyCode,
    CustomerNo, Email, ErpFieldName, ErpKind, ErpNumber, ErpRecord, ErpRequest, ErrorClass,
    ErrorCode, ExternalUid, IntegrationId, IntegrationKey, IntegrationName, LeaseHolder,
    NewAccount, Phone, Promotion, PromotionId, PromotionState, ReferenceCode, ReferenceKind,
    Sage300Request, SalespersonRef, SecretRef, SyncRunId, Timestamp, Website,
};
use crm2sage_domain::{PartyCode, PartyKind, PartyPromotion};
use crm2sage_store_postgres::PgStoreError;

/// docs/cli.md's error-kind table: code → the classes it may have (empty for CLI-only kinds).
fn documented_kinds() -> HashMap<String, Vec<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let table = doc
        .split("<!-- error-kinds: begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- error-kinds: end -->").next())
        .expect("docs/cli.md has the error-kinds table between its markers");
    let mut kinds = HashMap::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let code = cells[1].trim_matches('`').to_owned();
        let classes = if cells[2].starts_with('(') {
            Vec::new()
        } else {
            cells[2].split(" or ").map(str::to_owned).collect()
        };
        assert!(
            kinds.insert(code.clone(), classes).is_none(),
            "`{code}` is listed twice"
        );
    }
    assert!(kinds.len() > 20, "the table parsed to {kinds:?}");
    kinds
}

fn name() -> IntegrationName {
    IntegrationName::parse("s300").unwrap()
}

fn store() -> StoreError {
    StoreError::Internal("disk full".into())
}

fn promotion() -> Box<Promotion> {
    let customer_no = CustomerNo::parse_sage300("C1").unwrap();
    Box::new(Promotion {
        id: PromotionId::generate(),
        account: AccountId::generate(),
        integration: IntegrationId::generate(),
        request: ErpRequest::Sage300(Sage300Request {
            customer_no,
            category: ReferenceCode::parse("RTL").unwrap(),
            tax_group: ReferenceCode::parse("CALIF").unwrap(),
            terms: None,
        }),
        external_uid: ExternalUid::parse("C1").unwrap(),
        state: PromotionState::Creating,
        lease: None,
        error: None,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
    })
}

fn binding() -> Box<Binding> {
    let integration = IntegrationId::generate();
    let external_uid = ExternalUid::parse("C1").unwrap();
    Box::new(Binding {
        account: AccountId::generate(),
        integration,
        customer_no: CustomerNo::parse_sage300("C1").unwrap(),
        integration_key: IntegrationKey::new(integration, &external_uid),
        external_uid,
        promoted_at: Timestamp::UNIX_EPOCH,
        origin: crm2sage_domain::BindingOrigin::Created,
        erp_record: ErpRecord::new(),
    })
}

fn secret_missing() -> SecretError {
    SecretError::Missing {
        reference: SecretRef::env("S300_PASSWORD").unwrap(),
    }
}

/// One value of every variant of every public error, with the class each must have.
#[allow(clippy::too_many_lines)]
fn every_error() -> Vec<(Box<dyn ErrorCode>, ErrorClass)> {
    use ErrorClass::{Conflict, Erp, Internal, Invalid, NotFound};
    let invalid_fields = NewAccount::default().validate().unwrap_err();
    let read = || ErpReadError::Unreachable("connection refused".into());
    let uid = ExternalUid::parse("C1").unwrap();
    let customer_no = CustomerNo::parse_sage300("C1").unwrap();
    let account = AccountId::generate();
    let ship_code = || crm2sage_domain::ShipToCode::parse("MAIN").unwrap();
    let contact_code = || crm2sage_domain::ContactCode::parse("ANA").unwrap();
    vec![
        // Values.
        (Box::new(AccountName::parse("").unwrap_err()), Invalid),
        (Box::new(invalid_fields.clone()), Invalid),
        (Box::new(ExternalUid::parse("").unwrap_err()), Invalid),
        (Box::new(ErpNumber::parse("x").unwrap_err()), Invalid),
        (Box::new(CountryCode::parse("ZZZ").unwrap_err()), Invalid),
        (Box::new(Email::parse("nobody").unwrap_err()), Invalid),
        (Box::new(Phone::parse("call me").unwrap_err()), Invalid),
        (Box::new(Website::parse("ftp://x").unwrap_err()), Invalid),
        (Box::new(CompanyCode::parse("").unwrap_err()), Invalid),
        (Box::new(ReferenceCode::parse("").unwrap_err()), Invalid),
        (
            Box::new(CustomerNo::parse_sage300("").unwrap_err()),
            Invalid,
        ),
        (Box::new(ArDivision::parse("xyz").unwrap_err()), Invalid),
        (Box::new(SalespersonRef::parse("").unwrap_err()), Invalid),
        (Box::new(CurrencyCode::parse("x").unwrap_err()), Invalid),
        (Box::new(IntegrationName::parse("").unwrap_err()), Invalid),
        (
            Box::new(crm2sage_domain::BaseUrlError::InsecureHttp(
                "http://erp.example.com/x".into(),
            )),
            Invalid,
        ),
        (
            Box::new(crm2sage_domain::BaseUrl::parse("https://u:p@erp.example.com/x").unwrap_err()),
            Invalid,
        ),
        (Box::new(SecretRef::env("1BAD").unwrap_err()), Invalid),
        (
            Box::new(ErpFieldName::parse(ErpKind::Sage300, "").unwrap_err()),
            Invalid,
        ),
        (Box::new("oracle".parse::<ErpKind>().unwrap_err()), Invalid),
        (
            Box::new("nope".parse::<ReferenceKind>().unwrap_err()),
            Invalid,
        ),
        (Box::new(AccountId::parse("acct-42").unwrap_err()), Invalid),
        (
            Box::new(crm2sage_domain::ShipToCode::parse("TOO-LONG").unwrap_err()),
            Invalid,
        ),
        // Ship-tos and contacts: the store ports and the services.
        (Box::new(AddShipToError::AccountNotFound(account)), NotFound),
        (
            Box::new(AddShipToError::CodeTaken {
                account,
                code: ship_code(),
            }),
            Conflict,
        ),
        (
            Box::new(AddShipToError::PrimaryTaken {
                account,
                primary: ship_code(),
            }),
            Conflict,
        ),
        (Box::new(AddShipToError::Store(store())), Internal),
        (
            Box::new(RemoveShipToError::NotFound {
                account,
                code: ship_code(),
            }),
            NotFound,
        ),
        (Box::new(RemoveShipToError::Store(store())), Internal),
        (
            Box::new(AddContactError::AccountNotFound(account)),
            NotFound,
        ),
        (
            Box::new(AddContactError::CodeTaken {
                account,
                code: contact_code(),
            }),
            Conflict,
        ),
        (
            Box::new(AddContactError::PrimaryTaken {
                account,
                primary: contact_code(),
            }),
            Conflict,
        ),
        (Box::new(AddContactError::Store(store())), Internal),
        (
            Box::new(RemoveContactError::NotFound {
                account,
                code: contact_code(),
            }),
            NotFound,
        ),
        (Box::new(RemoveContactError::Store(store())), Internal),
        (
            Box::new(ShipToError::Invalid(invalid_fields.clone())),
            Invalid,
        ),
        (Box::new(ShipToError::AccountNotFound(account)), NotFound),
        (
            Box::new(ShipToError::CodeTaken {
                account,
                code: ship_code(),
            }),
            Conflict,
        ),
        (
            Box::new(ShipToError::PrimaryTaken {
                account,
                primary: ship_code(),
            }),
            Conflict,
        ),
        (
            Box::new(ShipToError::NotFound {
                account,
                code: ship_code(),
            }),
            NotFound,
        ),
        (Box::new(ShipToError::Store(store())), Internal),
        (
            Box::new(ContactError::Invalid(invalid_fields.clone())),
            Invalid,
        ),
        (Box::new(ContactError::AccountNotFound(account)), NotFound),
        (
            Box::new(ContactError::CodeTaken {
                account,
                code: contact_code(),
            }),
            Conflict,
        ),
        (
            Box::new(ContactError::PrimaryTaken {
                account,
                primary: contact_code(),
            }),
            Conflict,
        ),
        (
            Box::new(ContactError::NotFound {
                account,
                code: contact_code(),
            }),
            NotFound,
        ),
        (Box::new(ContactError::Store(store())), Internal),
        // The store port.
        (Box::new(StoreError::Busy("locked".into())), Internal),
        (
            Box::new(StoreError::Corrupt("not a database".into())),
            Internal,
        ),
        (
            Box::new(StoreError::TooNew {
                found: 9,
                supported: 3,
            }),
            Internal,
        ),
        (Box::new(store()), Internal),
        (Box::new(AddIntegrationError::NameTaken(name())), Conflict),
        (Box::new(AddIntegrationError::Store(store())), Internal),
        (Box::new(SetDefaultError::NotFound(name())), NotFound),
        (Box::new(UpdateIntegrationError::NotFound(name())), NotFound),
        (Box::new(UpdateIntegrationError::Store(store())), Internal),
        (
            Box::new(UpdateAccountError::NotFound(AccountId::generate())),
            NotFound,
        ),
        (
            Box::new(UpdateAccountError::ReferenceTaken {
                reference: crm2sage_domain::AccountRef::parse("CRM-1").unwrap(),
                other: AccountId::generate(),
            }),
            Invalid,
        ),
        (Box::new(UpdateAccountError::Store(store())), Internal),
        (
            Box::new(crm2sage_domain::RequestTimeout::from_secs(0).unwrap_err()),
            Invalid,
        ),
        (
            Box::new(crm2sage_domain::TrustedCa::parse("not a pem").unwrap_err()),
            Invalid,
        ),
        (
            Box::new(ConnectError::TrustedCa {
                reason: "no certificate".into(),
            }),
            Invalid,
        ),
        (Box::new(SetDefaultError::Store(store())), Internal),
        (Box::new(RemoveIntegrationError::NotFound(name())), NotFound),
        (Box::new(RemoveIntegrationError::InUse(name())), Conflict),
        (Box::new(RemoveIntegrationError::Store(store())), Internal),
        (
            Box::new(BeginSyncError::AlreadyRunning {
                kind: ReferenceKind::Category,
                run: SyncRunId::generate(),
                holder: LeaseHolder {
                    host: "h".into(),
                    pid: 1,
                    process_start: 1,
                    task: 1,
                },
                expires_at: Timestamp::UNIX_EPOCH,
                since: Timestamp::UNIX_EPOCH,
            }),
            Conflict,
        ),
        (Box::new(BeginSyncError::Store(store())), Internal),
        (
            Box::new(SyncRunError::NotRunning(SyncRunId::generate())),
            Conflict,
        ),
        (Box::new(SyncRunError::Store(store())), Internal),
        (
            Box::new(RecordIntentError::AccountLive(promotion())),
            Conflict,
        ),
        (Box::new(RecordIntentError::UidLive(promotion())), Conflict),
        (Box::new(RecordIntentError::Bound(binding())), Conflict),
        (Box::new(RecordIntentError::Store(store())), Internal),
        (Box::new(FencedWriteError::LeaseLost), Conflict),
        (Box::new(FencedWriteError::NotFound), NotFound),
        (Box::new(FencedWriteError::Store(store())), Internal),
        (Box::new(TakeOverError::Changed), Conflict),
        (Box::new(TakeOverError::Store(store())), Internal),
        // Copying a store.
        (
            Box::new(CopyError::TargetNotEmpty {
                counts: crm2sage_domain::ports::RowCounts {
                    accounts: 3,
                    ..Default::default()
                },
            }),
            Conflict,
        ),
        (
            Box::new(CopyError::CountsDiffer {
                section: crm2sage_domain::ports::CopySection::Log,
                source_rows: 9,
                target_rows: 8,
            }),
            Internal,
        ),
        (Box::new(CopyError::Source(store())), Internal),
        (
            Box::new(CopyError::Target(StoreError::Busy("locked".into()))),
            Internal,
        ),
        // The PostgreSQL store's connection.
        (
            Box::new(PgStoreError::InvalidSettings(
                "not a postgres:// URL".into(),
            )),
            Invalid,
        ),
        (
            Box::new(PgStoreError::Unreachable {
                url: "postgres://postgres@127.0.0.1:1/test".into(),
                reason: "connection refused".into(),
            }),
            Internal,
        ),
        (Box::new(PgStoreError::Store(store())), Internal),
        // The ERP and system ports.
        (
            Box::new(ConnectError::InvalidUrl {
                url: "x".into(),
                reason: "no host".into(),
            }),
            Invalid,
        ),
        (
            Box::new(ConnectError::InsecureHttp {
                url: "http://erp.example.com".into(),
            }),
            Invalid,
        ),
        (
            Box::new(ConnectError::Unsupported(ErpKind::Sage100)),
            Invalid,
        ),
        (
            Box::new(ConnectError::Internal("no TLS roots".into())),
            Internal,
        ),
        (Box::new(read()), Erp),
        (Box::new(ErpReadError::Unauthorized), Erp),
        (Box::new(ErpReadError::Forbidden("AR".into())), Erp),
        (Box::new(ErpReadError::RateLimited), Erp),
        (
            Box::new(ErpReadError::Server {
                status: 500,
                message: "boom".into(),
            }),
            Erp,
        ),
        (
            Box::new(ErpReadError::Protocol {
                excerpt: "<html>".into(),
            }),
            Erp,
        ),
        (
            Box::new(ErpReadError::KindUnavailable(ReferenceKind::Category)),
            Erp,
        ),
        (
            Box::new(CreateCustomerError::Rejected {
                code: "E1".into(),
                message: "bad group".into(),
            }),
            Erp,
        ),
        (Box::new(CreateCustomerError::AlreadyExists), Conflict),
        (
            Box::new(CreateCustomerError::Ambiguous {
                reason: "timeout after sending".into(),
            }),
            Erp,
        ),
        (
            Box::new(CreateCustomerError::Unreachable("reset".into())),
            Erp,
        ),
        (Box::new(CreateCustomerError::Unauthorized), Erp),
        (Box::new(CreateCustomerError::Forbidden("AR".into())), Erp),
        (Box::new(CreateCustomerError::RateLimited), Erp),
        (Box::new(secret_missing()), Invalid),
        (
            Box::new(SecretError::Unavailable {
                reference: SecretRef::external("vault/erp").unwrap(),
                reason: "vault sealed".into(),
            }),
            Internal,
        ),
        (Box::new(SecretRef::external("").unwrap_err()), Invalid),
        (
            Box::new(SecretError::Unsupported {
                reference: SecretRef::env("X").unwrap(),
            }),
            Invalid,
        ),
        // The services.
        (
            Box::new(ResolveError::NoDefault {
                configured: Vec::new(),
            }),
            Invalid,
        ),
        (
            Box::new(ResolveError::NotFound {
                name: "s100".into(),
                configured: vec![name()],
            }),
            NotFound,
        ),
        (Box::new(ResolveError::Store(store())), Internal),
        (Box::new(GatewayError::Secret(secret_missing())), Invalid),
        (
            Box::new(GatewayError::Connect(ConnectError::Internal("tls".into()))),
            Internal,
        ),
        (
            Box::new(AccountError::Invalid(invalid_fields.clone())),
            Invalid,
        ),
        (
            Box::new(AccountError::NotFound(AccountId::generate())),
            NotFound,
        ),
        (Box::new(AccountError::Store(store())), Internal),
        (
            Box::new(IntegrationError::Invalid(invalid_fields.clone())),
            Invalid,
        ),
        (Box::new(IntegrationError::NameTaken(name())), Conflict),
        (
            Box::new(IntegrationError::Resolve(ResolveError::Store(store()))),
            Internal,
        ),
        (Box::new(IntegrationError::InUse(name())), Conflict),
        (
            Box::new(IntegrationError::Gateway(GatewayError::Secret(
                secret_missing(),
            ))),
            Invalid,
        ),
        (
            Box::new(IntegrationError::Erp(ErpReadError::Unauthorized)),
            Erp,
        ),
        (Box::new(IntegrationError::Store(store())), Internal),
        (
            Box::new(SyncError::Resolve(ResolveError::NoDefault {
                configured: vec![name()],
            })),
            Invalid,
        ),
        (
            Box::new(SyncError::Gateway(GatewayError::Secret(secret_missing()))),
            Invalid,
        ),
        (
            Box::new(SyncError::KindNotOffered {
                kind: ReferenceKind::Currency,
                erp: ErpKind::Sage100,
                offered: "category".into(),
            }),
            Invalid,
        ),
        (
            Box::new(DetailsError::Resolve(ResolveError::Store(store()))),
            Internal,
        ),
        (
            Box::new(DetailsError::AccountNotFound(AccountId::generate())),
            NotFound,
        ),
        (
            Box::new(DetailsError::NotPromoted {
                account: AccountId::generate(),
                integration: name(),
            }),
            NotFound,
        ),
        (
            Box::new(DetailsError::GoneFromErp {
                external_uid: "C1".into(),
            }),
            NotFound,
        ),
        (
            Box::new(DetailsError::Gateway(
                GatewayError::Secret(secret_missing()),
            )),
            Invalid,
        ),
        (Box::new(DetailsError::Erp(read())), Erp),
        (Box::new(DetailsError::Store(store())), Internal),
        (Box::new(RecoverError::Store(store())), Internal),
        (
            Box::new(PromoteError::Resolve(ResolveError::NotFound {
                name: "x".into(),
                configured: Vec::new(),
            })),
            NotFound,
        ),
        (
            Box::new(PromoteError::AccountNotFound(AccountId::generate())),
            NotFound,
        ),
        (
            Box::new(PromoteError::Invalid {
                integration: name(),
                fields: invalid_fields.clone(),
            }),
            Invalid,
        ),
        (
            Box::new(PromoteError::MissingPrerequisites {
                integration: name(),
                missing: vec![ReferenceKind::Category, ReferenceKind::Currency],
            }),
            Invalid,
        ),
        (
            Box::new(PromoteError::AlreadyPromoted {
                account: AccountId::generate(),
                integration: name(),
                binding: binding(),
            }),
            Conflict,
        ),
        (
            Box::new(PromoteError::InProgress {
                promotion: PromotionId::generate(),
                holder_alive: true,
            }),
            Conflict,
        ),
        (
            Box::new(PromoteError::InProgress {
                promotion: PromotionId::generate(),
                holder_alive: false,
            }),
            Conflict,
        ),
        (
            Box::new(PromoteError::CustomerNoInUse {
                external_uid: uid,
                other_account: AccountId::generate(),
                state: PromotionState::Creating,
            }),
            Conflict,
        ),
        (
            Box::new(PromoteError::CustomerNoTaken {
                customer_no: customer_no.clone(),
                promotion: PromotionId::generate(),
            }),
            Conflict,
        ),
        (
            Box::new(PromoteError::Gateway(GatewayError::Connect(
                ConnectError::InsecureHttp {
                    url: "http://erp.example.com".into(),
                },
            ))),
            Invalid,
        ),
        (
            Box::new(PromoteError::Lookup {
                promotion: PromotionId::generate(),
                error: ErpReadError::RateLimited,
            }),
            Erp,
        ),
        (
            Box::new(PromoteError::CreateRefused {
                promotion: PromotionId::generate(),
                error: CreateCustomerError::Unauthorized,
            }),
            Erp,
        ),
        (
            Box::new(PromoteError::OutcomeUnknown {
                promotion: PromotionId::generate(),
                reason: "timeout".into(),
            }),
            Erp,
        ),
        (
            Box::new(PromoteError::NotRecorded {
                promotion: PromotionId::generate(),
                customer_no,
                error: store(),
            }),
            Internal,
        ),
        (
            Box::new(PromoteError::LeaseLost(PromotionId::generate())),
            Conflict,
        ),
        (Box::new(PromoteError::Store(store())), Internal),
        (
            Box::new(PromoteError::Crashed(CrashPoint::AfterIntent)),
            Internal,
        ),
        // The duplicate guard, the dry run, link, unlink, match, reconcile, the index.
        (
            Box::new(PromoteError::PossibleDuplicate { candidates: vec![] }),
            Conflict,
        ),
        (
            Box::new(PromoteError::DuplicateCheck {
                error: ErpReadError::RateLimited,
            }),
            Erp,
        ),
        (
            Box::new(PromoteError::CustomerNoExists {
                customer_no: CustomerNo::parse_sage300("C1").unwrap(),
            }),
            Conflict,
        ),
        (Box::new(LinkError::AccountBound(binding())), Conflict),
        (Box::new(LinkError::CustomerBound(binding())), Conflict),
        (Box::new(LinkError::InProgress(promotion())), Conflict),
        (Box::new(LinkError::Store(store())), Internal),
        (Box::new(UnlinkError::NotBound), NotFound),
        (Box::new(UnlinkError::Store(store())), Internal),
        (
            Box::new(LinkAccountError::AccountNotFound(AccountId::generate())),
            NotFound,
        ),
        (
            Box::new(LinkAccountError::CustomerNotFound(
                ExternalUid::parse("C1").unwrap(),
            )),
            NotFound,
        ),
        (
            Box::new(LinkAccountError::Claimed {
                external_uid: ExternalUid::parse("C1").unwrap(),
                crm_id: "other".into(),
            }),
            Conflict,
        ),
        (
            Box::new(LinkAccountError::Lookup(ErpReadError::Unauthorized)),
            Erp,
        ),
        (
            Box::new(LinkAccountError::Link(LinkError::CustomerBound(binding()))),
            Conflict,
        ),
        (
            Box::new(UnlinkAccountError::Unlink(UnlinkError::NotBound)),
            NotFound,
        ),
        (
            Box::new(UnlinkAccountError::AccountNotFound(AccountId::generate())),
            NotFound,
        ),
        (Box::new(MatchError::NotIndexed(name())), Invalid),
        (Box::new(MatchError::InvalidScore(2.0)), Invalid),
        (Box::new(MatchError::Store(store())), Internal),
        (Box::new(ReconcileError::Store(store())), Internal),
        (
            Box::new(CustomerSyncError::Page {
                page: 2,
                error: ErpReadError::Server {
                    status: 500,
                    message: "boom".into(),
                },
            }),
            Erp,
        ),
        (
            Box::new(CustomerSyncError::Looping {
                page: 3,
                why: "same link".into(),
            }),
            Erp,
        ),
        (Box::new(CustomerSyncError::Store(store())), Internal),
        // Ship-to and contact promotion.
        (
            Box::new(ErpWriteError::Rejected {
                code: "General".into(),
                message: "no".into(),
            }),
            Erp,
        ),
        (Box::new(ErpWriteError::AlreadyExists), Conflict),
        (Box::new(ErpWriteError::CustomerMissing), NotFound),
        (
            Box::new(ErpWriteError::Ambiguous {
                reason: "timeout".into(),
            }),
            Erp,
        ),
        (Box::new(ErpWriteError::Unreachable("refused".into())), Erp),
        (Box::new(ErpWriteError::Unauthorized), Erp),
        (Box::new(ErpWriteError::Forbidden("no".into())), Erp),
        (Box::new(ErpWriteError::RateLimited), Erp),
        (
            Box::new(RecordPartyIntentError::Live(Box::new(party_promotion()))),
            Conflict,
        ),
        (
            Box::new(RecordPartyIntentError::AccountNotFound(account)),
            NotFound,
        ),
        (Box::new(RecordPartyIntentError::Store(store())), Internal),
        (
            Box::new(PartyPromoteError::Resolve(ResolveError::NoDefault {
                configured: vec![],
            })),
            Invalid,
        ),
        (
            Box::new(PartyPromoteError::AccountNotFound(account)),
            NotFound,
        ),
        (
            Box::new(PartyPromoteError::PartyNotFound {
                account,
                party: ship_party(),
            }),
            NotFound,
        ),
        (
            Box::new(PartyPromoteError::PartyNotFound {
                account,
                party: PartyCode::Contact(contact_code()),
            }),
            NotFound,
        ),
        (
            Box::new(PartyPromoteError::NotPromoted {
                account,
                integration: name(),
            }),
            Invalid,
        ),
        (
            Box::new(PartyPromoteError::Invalid {
                party: ship_party(),
                integration: name(),
                fields: invalid_fields.clone(),
            }),
            Invalid,
        ),
        (
            Box::new(PartyPromoteError::NoPlace {
                party: PartyCode::Contact(contact_code()),
                integration: name(),
            }),
            Invalid,
        ),
        (
            Box::new(PartyPromoteError::Probe {
                kind: PartyKind::Contact,
                error: read(),
            }),
            Erp,
        ),
        (
            Box::new(PartyPromoteError::InProgress {
                promotion: PromotionId::generate(),
                holder_alive: false,
            }),
            Conflict,
        ),
        (
            Box::new(PartyPromoteError::Gateway(GatewayError::Secret(
                secret_missing(),
            ))),
            Invalid,
        ),
        (
            Box::new(PartyPromoteError::Lookup {
                promotion: PromotionId::generate(),
                party: ship_party(),
                error: read(),
            }),
            Erp,
        ),
        (
            Box::new(PartyPromoteError::Refused {
                promotion: PromotionId::generate(),
                party: ship_party(),
                error: ErpWriteError::RateLimited,
            }),
            Erp,
        ),
        (
            Box::new(PartyPromoteError::Refused {
                promotion: PromotionId::generate(),
                party: ship_party(),
                error: ErpWriteError::CustomerMissing,
            }),
            NotFound,
        ),
        (
            Box::new(PartyPromoteError::OutcomeUnknown {
                promotion: PromotionId::generate(),
                party: ship_party(),
                reason: "timeout".into(),
            }),
            Erp,
        ),
        (
            Box::new(PartyPromoteError::NotRecorded {
                promotion: PromotionId::generate(),
                party: ship_party(),
                error: store(),
            }),
            Internal,
        ),
        (
            Box::new(PartyPromoteError::LeaseLost(PromotionId::generate())),
            Conflict,
        ),
        (Box::new(PartyPromoteError::Store(store())), Internal),
        (
            Box::new(PartyPromoteError::Crashed(CrashPoint::AfterCreate)),
            Internal,
        ),
    ]
}

fn ship_party() -> PartyCode {
    PartyCode::ShipTo(crm2sage_domain::ShipToCode::parse("MAIN").unwrap())
}

fn party_promotion() -> PartyPromotion {
    let customer = ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300("C1").unwrap(),
    };
    let key = ErpPartyKey {
        customer: customer.clone(),
        party: ship_party(),
    };
    PartyPromotion {
        id: PromotionId::generate(),
        account: AccountId::generate(),
        integration: IntegrationId::generate(),
        party: ship_party(),
        customer,
        external_uid: key.external_uid(),
        state: PromotionState::Creating,
        lease: None,
        error: None,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
    }
}

fn is_snake_case(code: &str) -> bool {
    !code.is_empty()
        && code
            .split('_')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
}

/// A flag (`--customer-no`), a command (`` `crm2sage sync` ``, `crm2sage recover`) or a shell
/// instruction named in a text.
fn names_the_cli(text: &str) -> bool {
    let flag = text
        .match_indices("--")
        .any(|(i, _)| text[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()));
    let command = [
        "account",
        "integration",
        "sync",
        "promote",
        "recover",
        "erp-details",
        "log",
        "import",
    ]
    .iter()
    .any(|c| text.contains(&format!("crm2sage {c}")));
    flag || command || text.contains("`crm2sage") || text.contains("export ")
}

#[test]
fn every_public_error_has_a_documented_code_and_its_class() {
    let kinds = documented_kinds();
    let mut problems = Vec::new();
    for (error, class) in every_error() {
        let code = error.code();
        let what = format!("{error:?}");
        if !is_snake_case(code) {
            problems.push(format!("{what}: code `{code}` is not snake_case"));
        }
        match kinds.get(code) {
            None => problems.push(format!("{what}: code `{code}` is not in docs/cli.md")),
            Some(classes) if !classes.iter().any(|c| c == error.class().as_str()) => {
                problems.push(format!(
                    "{what}: class {} is not the documented {classes:?} of `{code}`",
                    error.class()
                ))
            }
            Some(_) => {}
        }
        if error.class() != class {
            problems.push(format!(
                "{what}: class {} (expected {class})",
                error.class()
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn no_error_text_names_a_cli_flag_or_command() {
    let bad: Vec<String> = every_error()
        .into_iter()
        .map(|(e, _)| e.to_string())
        .filter(|text| names_the_cli(text))
        .collect();
    assert!(bad.is_empty(), "texts naming the CLI:\n{}", bad.join("\n"));
}

#[test]
fn the_checks_catch_what_they_look_for() {
    assert!(names_the_cli("promote again with another --customer-no"));
    assert!(names_the_cli("run `crm2sage recover` to settle it"));
    assert!(names_the_cli("export S300_PASSWORD=..."));
    assert!(!names_the_cli("a response crm2sage cannot read"));
    assert!(is_snake_case("customer_no_taken"));
    assert!(!is_snake_case("CustomerNoTaken") && !is_snake_case("no-default"));
}
