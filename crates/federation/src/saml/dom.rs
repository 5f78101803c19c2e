//! Small, strict readers over the parsed document.

use bergshamra_xml::uppsala::{self, Document, NodeId, NodeKind};

use super::rejection::Rejection;

/// SAML 2.0 protocol namespace.
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion namespace.
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// XML-DSig namespace.
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Attribute names that XML-DSig resolves `#id` references by.
const ID_ATTRIBUTES: [&str; 4] = ["ID", "Id", "id", "AssertionID"];

/// Parses with the one parser the signatures are verified with; no DOCTYPE,
/// so no entities, external or internal.
pub fn parse(xml: &str) -> Result<Document<'_>, Rejection> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(Rejection::Doctype);
    }
    // The scan above names the refusal; the parser refuses any DTD itself too.
    uppsala::Parser::new()
        .with_forbid_dtd(true)
        .parse(xml)
        .map_err(|_| Rejection::MalformedXml)
}

/// Whether `id` is the element `{ns}local`.
pub fn is(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> bool {
    doc.element(id)
        .is_some_and(|e| e.name.namespace_uri.as_deref() == Some(ns) && e.name.local_name == local)
}

/// The child elements of `id` named `{ns}local`, in document order.
pub fn children(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    doc.children(id)
        .into_iter()
        .filter(|c| is(doc, *c, ns, local))
        .collect()
}

/// The child element `{ns}local` of `id` when there is exactly one.
pub fn only_child(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    match children(doc, id, ns, local).as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Every element `{ns}local` in the document, wherever it is.
pub fn everywhere(doc: &Document<'_>, ns: &str, local: &str) -> Vec<NodeId> {
    doc.descendants(doc.root())
        .into_iter()
        .filter(|n| is(doc, *n, ns, local))
        .collect()
}

/// An attribute of an element, by local name.
pub fn attribute<'d>(doc: &'d Document<'_>, id: NodeId, name: &str) -> Option<&'d str> {
    doc.get_attribute(id, name)
}

/// The element's text when it is only text: a comment, element or processing
/// instruction inside would let a reader that skips it see another value than
/// the signed one, so it is refused. Surrounding whitespace is trimmed.
pub fn plain_text(doc: &Document<'_>, id: NodeId) -> Result<String, Rejection> {
    let mut text = String::new();
    for child in doc.children(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(t) | NodeKind::CData(t)) => text.push_str(t),
            Some(
                NodeKind::Comment(_)
                | NodeKind::Element(_)
                | NodeKind::ProcessingInstruction(_)
                | NodeKind::Document
                | NodeKind::Attribute(..),
            )
            | None => return Err(Rejection::MarkupInIdentity),
        }
    }
    Ok(text.trim().to_owned())
}

/// Refuses a document in which two elements carry the same ID value under any
/// of the attribute names references resolve by.
pub fn refuse_duplicate_ids(doc: &Document<'_>) -> Result<(), Rejection> {
    let mut seen = std::collections::HashSet::new();
    for node in doc.descendants(doc.root()) {
        for name in ID_ATTRIBUTES {
            if let Some(value) = attribute(doc, node, name)
                && !seen.insert(value.to_owned())
            {
                return Err(Rejection::DuplicateIds);
            }
        }
    }
    Ok(())
}
