"""Step-up phase: the Access Document, the DeviceRequest it answers and the DeviceResponse.

The shapes follow ISO/IEC 18013-5 with the compact integer-string keys the
public Aliro readers use (Proxmark3 ``cmdhfaliro.c``; CSA aliro-actuator
``access_document/``): DeviceRequest ``{"1": "1.0", "2": [{"1": #6.24(ItemsRequest)}]}``
with ItemsRequest ``{"1": {docType: {element: true}}, "5": docType}``;
DeviceResponse ``{"1": "1.0", "2": [Document], "3": 0}`` with Document
``{"5": docType, "1": {"1": {namespace: [#6.24(IssuerSignedItem)]}, "2": COSE_Sign1}}``
and IssuerSignedItem ``{"1": digestID, "2": random, "3": element, "4": value}``.
The issuer signs a Mobile Security Object (digests of every item, the
credential's public key, validity) as COSE_Sign1 with ES256. Keys the
public material does not show are chosen in :mod:`.assumptions` terms here
and listed in docs/aliro.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from . import cbor
from .crypto import digest, sign_raw, x_of
from .protocol import ACCESS_DOCUMENT_TYPE

__all__ = ["AccessDocument", "StepUpError", "answer_device_request", "build_access_document",
           "DEFAULT_SCOPE", "sig_structure"]

DEFAULT_SCOPE = "matter1"
VERSION = "1.0"
COSE_ALG_ES256 = -7
COSE_HEADER_ALG = 1
COSE_HEADER_KID = 4
STATUS_OK = 0


class StepUpError(ValueError):
    """A DeviceRequest that is not one."""


@dataclass(frozen=True)
class AccessDocument:
    """A provisioned document: its type and its CBOR (a DeviceResponse ``Document``)."""

    doc_type: str
    encoded: bytes

    @property
    def elements(self) -> list[str]:
        document = cbor.loads(self.encoded)
        items = document["1"]["1"][self.doc_type]
        return [cbor.loads(item.value)["3"] for item in items]


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """COSE Sig_structure for COSE_Sign1 (RFC 9052 §4.4), empty external AAD."""
    return cbor.dumps(["Signature1", protected, b"", payload])


def build_access_document(issuer: ec.EllipticCurvePrivateKey, credential_public: bytes | None,
                          data: dict[str, Any], *, doc_type: str = ACCESS_DOCUMENT_TYPE,
                          issuer_id: bytes = b"hcekit-test", scope: str = DEFAULT_SCOPE,
                          valid_from: str = "2026-01-01T00:00:00Z",
                          valid_until: str = "2036-01-01T00:00:00Z") -> AccessDocument:
    """Provision a document: an Access Document bound to *credential_public*, or (with
    ``doc_type="aliro-r"`` and no key) a Revocation Document, as the tool's MSO allows."""
    item = {"1": 0, "2": os.urandom(16), "3": scope, "4": data}
    item_bytes = cbor.embedded(item)
    mso: dict[str, Any] = {
        "1": VERSION,
        "2": "SHA-256",
        "3": {doc_type: {0: digest(cbor.dumps(item_bytes))}},
        "5": doc_type,
        "6": {"1": valid_from, "2": valid_from, "3": valid_until},
        "7": False,
    }
    if credential_public is not None:
        mso["4"] = {"1": {1: 2, -1: 1, -2: x_of(credential_public), -3: credential_public[33:]}}
    protected = cbor.dumps({COSE_HEADER_ALG: COSE_ALG_ES256})
    payload = cbor.dumps(cbor.embedded(mso))
    signature = sign_raw(issuer, sig_structure(protected, payload))
    issuer_auth = [protected, {COSE_HEADER_KID: issuer_id}, payload, signature]
    document = {"5": doc_type, "1": {"1": {doc_type: [item_bytes]}, "2": issuer_auth}}
    return AccessDocument(doc_type, cbor.dumps(document))


def _requested(request: Any) -> list[tuple[str, set[str]]]:
    if not isinstance(request, dict) or request.get("1") != VERSION:
        raise StepUpError("DeviceRequest must be a map with version \"1.0\" under key \"1\"")
    doc_requests = request.get("2")
    if not isinstance(doc_requests, list) or not doc_requests:
        raise StepUpError("DeviceRequest has no document requests (key \"2\")")
    wanted = []
    for doc_request in doc_requests:
        items = doc_request.get("1") if isinstance(doc_request, dict) else None
        if not isinstance(items, cbor.Tagged) or items.tag != 24 or not isinstance(items.value, bytes):
            raise StepUpError("a document request must carry #6.24(ItemsRequest) under \"1\"")
        items_request = cbor.loads(items.value)
        doc_type = items_request.get("5") if isinstance(items_request, dict) else None
        namespaces = items_request.get("1") if isinstance(items_request, dict) else None
        if not isinstance(doc_type, str) or not isinstance(namespaces, dict):
            raise StepUpError("ItemsRequest needs a docType (\"5\") and name spaces (\"1\")")
        elements = {e for ns in namespaces.values() if isinstance(ns, dict)
                    for e, flag in ns.items() if isinstance(e, str) and flag is not None}
        wanted.append((doc_type, elements))
    return wanted


def answer_device_request(request_bytes: bytes, documents: list[AccessDocument]) -> bytes:
    """The DeviceResponse for *request_bytes*: every held document of a requested type,
    reduced to the requested elements."""
    try:
        request = cbor.loads(request_bytes)
    except cbor.CborError as exc:
        raise StepUpError(f"DeviceRequest is not CBOR: {exc}") from None
    answered = []
    for doc_type, elements in _requested(request):
        for held in documents:
            if held.doc_type != doc_type:
                continue
            document = cbor.loads(held.encoded)
            items = document["1"]["1"][doc_type]
            kept = [i for i in items if cbor.loads(i.value)["3"] in elements]
            document["1"]["1"][doc_type] = kept
            answered.append(document)
    return cbor.dumps({"1": VERSION, "2": answered, "3": STATUS_OK})
