"""The generated Python client in use against `duban serve --demo`: a deputy files a suggestion,
staff register and assign it with a typed body, the typed case is read back, and a refused
reply is parsed as a typed Problem.

    python smoke.py BASE_URL DEPUTY_TOKEN STAFF_TOKEN DEPARTMENT_TOKEN

The package `duban_client` is the one `tests/client/run` generates from the served document.
"""

import sys

from duban_client import AuthenticatedClient
from duban_client.api.cases import act_assign, act_register, act_reply, file_case, show_case
from duban_client.models import (
    SuggestionAssignPayload,
    CaseDto,
    Kind,
    Problem,
    RegisterPayload,
    State,
    SuggestionFiling,
    SuggestionFilingCategoryType0,
    SuggestionNewCase,
    SuggestionReplyPayload,
    SuggestionReplyPayloadClassification,
)


def expect(condition, what):
    if not condition:
        sys.exit(f"smoke test failed: {what}")
    print(f"ok: {what}")


def main():
    base, deputy, staff, department = sys.argv[1:5]
    as_deputy = AuthenticatedClient(base_url=base, token=deputy)
    as_staff = AuthenticatedClient(base_url=base, token=staff)
    as_department = AuthenticatedClient(base_url=base, token=department)

    filing = SuggestionNewCase(
        kind="suggestion",
        payload=SuggestionFiling(
            title="关于加快农村公路提档升级的建议",
            body="建议加快推进农村公路提档升级，改善群众出行条件。",
            category=SuggestionFilingCategoryType0.URBAN_RURAL,
        ),
    )
    filed = file_case.sync(client=as_deputy, body=filing)
    expect(isinstance(filed, CaseDto), f"a deputy files a suggestion ({type(filed).__name__})")
    expect(filed.kind == Kind.SUGGESTION and filed.state == State.RECEIVED, "it is a received suggestion")
    expect(filed.number.startswith("建议〔"), f"it has a number: {filed.number}")

    registered = act_register.sync(filed.id, client=as_staff, body=RegisterPayload(), if_match=f'"{filed.version}"')
    expect(isinstance(registered, CaseDto) and registered.state == State.REGISTERED, "staff register it")
    assigned = act_assign.sync(
        filed.id,
        client=as_staff,
        body=SuggestionAssignPayload(lead_department="jtj", co_departments=["cgj"]),
        if_match=f'"{registered.version}"',
    )
    expect(isinstance(assigned, CaseDto) and assigned.state == State.ASSIGNED, "staff assign it with a typed body")

    case = show_case.sync(filed.id, client=as_department)
    expect(isinstance(case, CaseDto), "the department reads the typed case back")
    expect(case.parties["lead_department"] == ["jtj"], f"led by jtj: {case.parties.to_dict()}")
    expect(case.deadline is not None and case.deadline.due_date.year >= 2024, f"due {case.deadline.due_date}")
    expect(case.filing.title == filing.payload.title, "its filing is typed")

    # A reply without its answer: refused, and the refusal is a typed Problem.
    refused = act_reply.sync(
        filed.id,
        client=as_department,
        body=SuggestionReplyPayload(classification=SuggestionReplyPayloadClassification.A, answer=""),
        if_match=f'"{case.version}"',
    )
    expect(isinstance(refused, Problem), f"a bad reply is a Problem ({type(refused).__name__})")
    expect(refused.status == 422 and refused.type_ == "urn:duban:problem:validation", f"422 {refused.type_}")
    expect(refused.errors[0].field == "answer", f"it names the field: {refused.errors[0].field}")


if __name__ == "__main__":
    main()
