//! The people a person can be in the emulated Teams host page: the two sides of a remote-assist
//! session, a field worker who is only a B2B guest of the customer's organization (no mailbox
//! there, and no right to list its people), plus the two users the tab must turn away or guide.

use test_support::directory::{
    DirectoryUser, EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID, GUEST_OID,
    SPECIALIST_OID,
};

/// Newco, an allowed organization whose users have not consented to the app yet.
pub const NEWCO_TENANT: &str = "0e3c0000-0000-4000-8000-000000000e3c";
pub const NEWCOMER_OID: &str = "0e3c0000-0000-4000-8000-000000000001";
/// Outside Ltd., an organization this deployment does not allow.
pub const OUTSIDE_TENANT: &str = "0a7e0000-0000-4000-8000-000000000a7e";
pub const OUTSIDER_OID: &str = "0a7e0000-0000-4000-8000-000000000001";

#[derive(Debug, Clone, Copy)]
pub struct Persona {
    /// Used in URLs and by the browser tests.
    pub id: &'static str,
    /// What the host page's picker says.
    pub label: &'static str,
    pub name: &'static str,
    pub upn: &'static str,
    pub tenant_id: &'static str,
    pub object_id: &'static str,
    pub organization: &'static str,
}

pub const PERSONAS: &[Persona] = &[
    Persona {
        id: "field-worker",
        label: "Field worker (Fieldworks)",
        name: "Avery Field",
        upn: "avery@fieldworks.example",
        tenant_id: FIELD_TENANT,
        object_id: FIELD_WORKER_OID,
        organization: "Fieldworks",
    },
    Persona {
        id: "expert",
        label: "Remote expert (Experts Inc., another organization)",
        name: "Robin Expert",
        upn: "robin@experts.example",
        tenant_id: EXPERT_TENANT,
        object_id: EXPERT_OID,
        organization: "Experts Inc.",
    },
    Persona {
        id: "guest",
        label: "Field worker who is a guest (Valve Consult, guest in Fieldworks, no mailbox)",
        name: "Quinn Valve Consultant",
        upn: "quinn_valveconsult.example#EXT#@fieldworks.example",
        tenant_id: FIELD_TENANT,
        object_id: GUEST_OID,
        organization: "Fieldworks (guest)",
    },
    Persona {
        id: "not-consented",
        label: "New user (Newco, has not consented yet)",
        name: "Noor Newcomer",
        upn: "noor@newco.example",
        tenant_id: NEWCO_TENANT,
        object_id: NEWCOMER_OID,
        organization: "Newco",
    },
    Persona {
        id: "not-allowed",
        label: "Outsider (Outside Ltd., organization not allowed)",
        name: "Blake Outsider",
        upn: "blake@outside.example",
        tenant_id: OUTSIDE_TENANT,
        object_id: OUTSIDER_OID,
        organization: "Outside Ltd.",
    },
];

pub fn find(id: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.id == id)
}

/// Newco's user in the emulated Graph directory, so that everything works once they consent.
pub fn newcomer_in_directory() -> DirectoryUser {
    DirectoryUser {
        tenant_id: NEWCO_TENANT,
        id: NEWCOMER_OID,
        display_name: "Noor Newcomer",
        mail: "noor@newco.example",
        user_principal_name: "noor@newco.example",
        job_title: "Maintenance Planner",
        department: "Operations",
        office_location: "Newco HQ",
        user_type: "Member",
        photo: None,
    }
}

/// Experts of the partner organization that the tab offers next to its own directory: Graph
/// cannot search another tenant, so an app keeps their object and tenant ids (docs/api.md).
pub fn partner_experts() -> serde_json::Value {
    serde_json::json!([
        {
            "userId": EXPERT_OID,
            "tenantId": EXPERT_TENANT,
            "displayName": "Robin Expert",
            "mail": "robin@experts.example",
            "jobTitle": "Senior Pump Engineer",
            "organization": "Experts Inc."
        },
        {
            "userId": SPECIALIST_OID,
            "tenantId": EXPERT_TENANT,
            "displayName": "Casey Pump Specialist",
            "mail": "casey@experts.example",
            "jobTitle": "Hydraulics Specialist",
            "organization": "Experts Inc."
        }
    ])
}
