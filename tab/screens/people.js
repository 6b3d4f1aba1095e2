// How a person looks in the tab: photo (or initials) and a line of details. Photos of people in
// the caller's organization come from GET /api/users/{id}/photo; people of a partner
// organization have none here (Graph does not serve another tenant's users).

const photoCache = new Map();

export function initials(name) {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/** The photo's object URL, or null; one request per person per page. */
function photoUrl(api, id) {
  if (!photoCache.has(id)) {
    photoCache.set(
      id,
      api.photo(id).then((blob) => URL.createObjectURL(blob), () => null),
    );
  }
  return photoCache.get(id);
}

/** A decorative avatar (the name is always next to it). */
export function avatar(person, api) {
  const box = document.createElement('span');
  box.className = 'avatar';
  box.setAttribute('aria-hidden', 'true');
  box.textContent = person.initials ?? initials(person.displayName);
  if (!person.external && api) {
    photoUrl(api, person.userId).then((url) => {
      if (!url) return;
      const img = document.createElement('img');
      img.src = url;
      img.alt = '';
      // Only a picture the browser can show replaces the initials, never a broken-image icon.
      img.decode().then(() => {
        box.replaceChildren(img);
        box.classList.add('has-photo');
      }, () => {});
    });
  }
  return box;
}

/** A person's name over their lines of details (empty ones are left out), beside an avatar. */
export function personText(name, ...details) {
  const text = document.createElement('span');
  text.className = 'person-text';
  const nameLine = document.createElement('span');
  nameLine.className = 'person-name';
  nameLine.textContent = name;
  text.append(nameLine);
  for (const detail of details.filter(Boolean)) {
    const line = document.createElement('span');
    line.className = 'person-details';
    line.textContent = detail;
    text.append(line);
  }
  return text;
}

export function describe(person) {
  const parts = [person.jobTitle, person.department, person.officeLocation].filter(Boolean);
  parts.push(person.external ? `${person.organization ?? 'Partner organization'} (external)` : 'Your organization');
  return parts.join(' · ');
}
