//! References from the derived DTO schemas to the schemas made at start-up from the workflows
//! (`#[schema(schema_with = …)]`): a DTO says which word it holds, the document says what the
//! words are.

use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{Ref, RefOr};

/// A built schema as the derive takes it.
trait ToRefOr {
    fn to_schema(self) -> RefOr<Schema>;
}

impl<T: Into<Schema>> ToRefOr for T {
    fn to_schema(self) -> RefOr<Schema> {
        RefOr::T(self.into())
    }
}

fn to(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn or_null(name: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(to(name))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .to_schema()
}

fn list_of(name: &str) -> RefOr<Schema> {
    RefOr::T(Schema::Array(ArrayBuilder::new().items(to(name)).build()))
}

pub fn kind() -> RefOr<Schema> {
    to("Kind")
}

pub fn state() -> RefOr<Schema> {
    to("State")
}

pub fn state_or_null() -> RefOr<Schema> {
    or_null("State")
}

pub fn action() -> RefOr<Schema> {
    to("Action")
}

pub fn actions() -> RefOr<Schema> {
    list_of("Action")
}

pub fn role() -> RefOr<Schema> {
    to("Role")
}

pub fn party() -> RefOr<Schema> {
    to("Party")
}

/// Who fills each party: party → logins or organisation codes.
pub fn parties() -> RefOr<Schema> {
    ObjectBuilder::new()
        .property_names(Some(AllOfBuilder::new().item(to("Party")).build()))
        .additional_properties(Some(
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
        ))
        .description(Some(
            "Who fills each party: user logins and organisation codes",
        ))
        .build()
        .to_schema()
}

pub fn filing() -> RefOr<Schema> {
    to("Filing")
}

pub fn event_payload() -> RefOr<Schema> {
    to("EventPayload")
}
