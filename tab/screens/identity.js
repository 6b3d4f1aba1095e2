// Who am I: the answer of POST /api/token/validate, next to what Teams says.

const FRAME_NAMES = { content: 'personal tab', sidePanel: 'meeting side panel' };

export function showIdentity(root, me, context) {
  root.querySelector('[data-name]').textContent = me.name ?? 'Signed in';
  root.querySelector('[data-upn]').textContent = me.userPrincipalName ?? '';
  root.querySelector('[data-tenant]').textContent = me.tenantId;
  root.querySelector('[data-object]').textContent = me.objectId;
  const where = FRAME_NAMES[context.frameContext] ?? context.frameContext;
  root.querySelector('[data-where]').textContent = context.meetingId ? `${where}, in a meeting` : where;
  const mismatch = context.tenantId && context.tenantId.toLowerCase() !== me.tenantId.toLowerCase();
  root.querySelector('[data-mismatch]').hidden = !mismatch;
  root.hidden = false;
}

/** The caller's own profile (GET /api/users/me): job, department, office. */
export function showProfile(root, profile) {
  const parts = [profile.jobTitle, profile.department, profile.officeLocation].filter(Boolean);
  root.querySelector('[data-profile]').textContent = parts.join(', ');
  root.querySelector('[data-profile-row]').hidden = parts.length === 0;
}
