// A tab developer's client, typed by what openapi-typescript generates from docs/openapi.json.
// scripts/ci/check-openapi.sh generates api.d.ts next to a copy of this file and type-checks both
// with tsc --strict; neither the generated types nor any output is committed. The
// `@ts-expect-error` lines are mistakes the types must catch: if a type were `any`, tsc would
// report the directive as unused and the check would fail.

import type { components, operations, paths } from "./api";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];
type JsonBody<P extends keyof paths, M extends "get" | "post"> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

type CreateMeeting = JsonBody<"/api/meetings", "post">;
type MeetingCreated = operations["CreateMeeting"]["responses"][201]["content"]["application/json"];
type NotifyChat = JsonBody<"/api/notifications/chat", "post">;
type Contacts = operations["SearchContacts"]["responses"][200]["content"]["application/json"];
type ContactsQuery = NonNullable<operations["SearchContacts"]["parameters"]["query"]>;
type Unauthorized = operations["CreateMeeting"]["responses"][401]["content"]["application/problem+json"];

/** Thrown for every problem answer: branch on `code`. */
export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

async function call<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new ApiProblem((await response.json()) as Problem);
  return (await response.json()) as T;
}

export function createMeeting(base: string, token: string, meeting: CreateMeeting): Promise<MeetingCreated> {
  return call(base, token, "POST", "/api/meetings", meeting);
}

export function notifyChat(base: string, token: string, notification: NotifyChat) {
  return call<operations["NotifyChat"]["responses"][201]["content"]["application/json"]>(
    base,
    token,
    "POST",
    "/api/notifications/chat",
    notification,
  );
}

export function searchContacts(base: string, token: string, query: ContactsQuery): Promise<Contacts> {
  const params = new URLSearchParams({ q: query.q, ...(query.top === undefined ? {} : { top: String(query.top) }) });
  return call(base, token, "GET", `/api/contacts?${params}`);
}

/** What a tab shows for a problem: every code is one of the document's. */
export function explain(problem: Problem): string {
  switch (problem.code) {
    case "consent_required":
      return `Consent needed: ${(problem.scopes ?? []).join(", ")}`;
    case "interaction_required":
      return `Sign in again with the claims ${problem.claims ?? ""}`;
    case "throttled":
    case "unavailable":
      return "Busy; try again shortly.";
    default:
      return problem.detail;
  }
}

export async function session(base: string, token: string): Promise<string> {
  const meeting = await createMeeting(base, token, {
    subject: "Pump 7 vibration",
    startDateTime: "2026-11-26T14:00:00Z",
    endDateTime: "2026-11-26T15:00:00Z",
    participants: [
      {
        userId: "0b1d0000-0000-4000-8000-000000000002",
        tenantId: "e4e4e000-0000-4000-8000-00000000e4e4",
        role: "presenter",
      },
    ],
    lobbyBypass: "organizationAndFederated",
  });
  const warned: ("lobby_not_applied" | "invitations_incomplete")[] = meeting.warnings ?? [];
  if (meeting.chatThreadId !== null && meeting.chatThreadId !== undefined) {
    const sent = await notifyChat(base, token, { chatId: meeting.chatThreadId, message: "Joining in 5 minutes" });
    return `${sent.chatId} ${sent.messageId} ${warned.length}`;
  }
  const contacts = await searchContacts(base, token, { q: "pump", top: 5 });
  const leftOut: ("people_unavailable" | "directory_unavailable")[] = contacts.warnings ?? [];
  return `${contacts.value.map((c) => c.displayName ?? c.id).join(", ")} ${leftOut.join(" ")}`;
}

export function mistakes(base: string, token: string, unauthorized: Unauthorized) {
  // The answer's code is one of the status's own codes.
  const code: "invalid_token" | "interaction_required" = unauthorized.code as "invalid_token" | "interaction_required";

  // @ts-expect-error: a participant's role is attendee or presenter.
  void createMeeting(base, token, { subject: "s", startDateTime: "a", endDateTime: "b", participants: [{ userId: "x", role: "host" }] });
  // @ts-expect-error: the subject is required.
  void createMeeting(base, token, { startDateTime: "a", endDateTime: "b" });
  // @ts-expect-error: lobbyBypass has three values, not "anyone".
  void createMeeting(base, token, { subject: "s", startDateTime: "a", endDateTime: "b", lobbyBypass: "anyone" });
  // @ts-expect-error: a notification needs its message.
  void notifyChat(base, token, { chatId: "19:a@thread.v2" });
  // @ts-expect-error: `top` is a number.
  void searchContacts(base, token, { q: "pump", top: "5" });
  // @ts-expect-error: no such problem code.
  const unknown: Problem["code"] = "teapot";
  return [code, unknown];
}
