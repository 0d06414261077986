// Package kmcompat serves the Kommunicate-compatible API under /rest/ws/, so
// that integrations written against Kommunicate's Platform API keep working
// when pointed at Switchboard. It is a thin adapter: it translates
// Kommunicate's request and response shapes to the use cases of package
// service and back, and holds no rules of its own.
//
// Mount the handler from New at the mux pattern "/rest/ws/" without
// stripping the prefix: routes match full paths.
//
// # Sources and choices
//
// The shapes follow Kommunicate's public docs (docs.kommunicate.io, "Platform
// APIs → Endpoints"), the Applozic platform API that Kommunicate's /rest/ws
// endpoints descend from, and public client code calling these endpoints.
// Where those are silent, the closest sensible shape was chosen; every such
// choice is marked "(choice)" below.
//
// # Authentication
//
// The app's API key, in the Api-Key header as Kommunicate expects, or as
// "Authorization: Bearer <key>". A missing or wrong key answers 401. The
// Of-User-Id header names the user a call acts for, where Kommunicate uses it
// (send message, update user); elsewhere it is accepted and ignored.
//
// # Envelope
//
// Success, always HTTP 200 (Kommunicate answers 200 also for creations):
//
//	{"status":"success","generatedAt":<unix ms>,"response":<payload>}
//
// Failure, with the HTTP status of the error's code (400, 401, 404, 409,
// 413, 415, …; the same mapping as /api/v1):
//
//	{"status":"error","generatedAt":<unix ms>,
//	 "errorResponse":[{"errorCode":"not_found","description":"conversation not found",
//	                   "displayMessage":"conversation not found","details":{}}]}
//
// errorCode carries Switchboard's error code (invalid, unauthenticated,
// not_found, conflict, too_large, unsupported_type, …), not Applozic's
// "AL-…" codes (choice); details names the offending field when there is
// one.
//
// # Ids
//
// Kommunicate's groupId is a number; Switchboard's conversation ids are
// strings, and they are returned as strings. Requests accept groupId (and
// clientGroupId, teamId) as a JSON string or a JSON integer, so clients that
// store ids as numbers can still send them back; an id that is not one of
// this app's conversations answers 404, whichever app it belongs to.
// Timestamps are Unix milliseconds, as in Kommunicate.
//
// Bodies are JSON of at most 1 MiB. Unknown fields are ignored, because
// Kommunicate clients send fields Switchboard has no use for; known fields
// are type-checked (a string where a number belongs is a 400).
//
// # POST /rest/ws/group/conversation — create a conversation
//
// Request body:
//
//	groupName        string, required  → metadata KM_CONVERSATION_TITLE (unless set)
//	groupMemberList  []string, required: the user's id plus, optionally,
//	                 agents (id or email) and bots (id). Exactly one entry
//	                 must not be an agent or bot of the app: it is the
//	                 contact's userId, created if new (as Kommunicate does).
//	agentIds, botIds []string, optional: checked to exist (400 otherwise).
//	                 Switchboard has no per-conversation member list, so
//	                 beyond that check they, like the agents and bots in
//	                 groupMemberList, do not change the assignee (choice).
//	assignee         string: an agent (id or email) or bot id; also read
//	                 from metadata CONVERSATION_ASSIGNEE.
//	skipRouting      bool; also read from metadata SKIP_ROUTING.
//	teamId           string or integer.
//	clientGroupId    string or integer, optional: kept in metadata
//	                 "clientGroupId" and echoed back. It is not an alias of
//	                 groupId: later calls must send the returned groupId
//	                 (choice; Switchboard has no lookup by client id).
//	type             optional; only 10 (a support conversation) is accepted.
//	metadata         object; nested values are kept as JSON strings. Its
//	                 KM_CHAT_CONTEXT (an object, or a string holding one)
//	                 becomes the contact's chat context.
//
// Response: a group (below), with the new conversation's id as id, groupId
// and, unless the caller gave one, clientGroupId.
//
// Group:
//
//	{"id","groupId","clientGroupId","name","type":10,"status":<0..7>,
//	 "assignee":"<agent or bot id, or empty>","assigneeType":"agent"|"bot"|"",
//	 "userId":"<contact's userId>","contactId","teamId","metadata":{…},
//	 "createdAtTime","updatedAtTime"}
//
// # POST /rest/ws/message/v2/send — send a message
//
// Request body: groupId (required), message, contentType (default 0),
// metadata (rich messages: templateId, payload, …; nested values kept as
// JSON strings), fromUserName.
//
// The sender is the Of-User-Id header, or else fromUserName (if both are
// given they must agree). It is required (choice): Kommunicate sends as the
// API key's owning admin when it is absent, but a Switchboard API key
// belongs to an app, not to a person, and guessing a person would put words
// in someone's mouth. The sender may be the conversation's user (its userId),
// or an agent (id or email) or bot (id) of the app; anyone else is a 400.
//
// contentType 2 (location) carries the point as JSON in message, as
// Kommunicate does: {"lat":…,"lon":…}. contentType 1 (attachment) is refused
// here: upload and attach through /api/v1. contentType 10 (system notice) is
// reserved to Switchboard.
//
// Response: {"messageKey","key","groupId","seq","createdAt","createdAtTime"}.
//
// # GET /rest/ws/message/list?groupId=&startIndex=&pageSize= — message list
//
// Newest first, as Kommunicate lists them: startIndex (default 0) skips that
// many of the newest messages, pageSize (default 50, at most 200) bounds the
// page. Response:
//
//	{"message":[{"key","groupId","message","contentType","metadata",
//	             "createdAtTime","from","senderType","seq","fileMeta"?,"attachments"?}],
//	 "userDetails":[<user of the conversation>],"groupFeeds":[<group>]}
//
// from is the sender as Of-User-Id would name it: the contact's userId (its
// contact id when anonymous), an agent's id, a bot's id; empty for system
// notices. senderType and seq are Switchboard's additions. A location
// message's message is its {"lat","lon"} JSON when it has no text.
// Attachments appear as fileMeta {blobKey,name,size,contentType,url}, the url
// signed and expiring.
//
// # PATCH /rest/ws/group/status/change?groupId=&status= — change status
//
// status is Kommunicate's number: 0 open, 2 resolved, 3 spam, 4 duplicate,
// 6 unresponded, 7 waiting. Any other value is a 400; a move the status rules
// forbid is a 409. sendNotifyMessage is ignored for now. Response: "updated".
//
// # PATCH /rest/ws/group/assignee/change?groupId=&assignee=&takeOverFromBot= — change assignee
//
// assignee is an agent's id or email, or a bot's id. takeOverFromBot=true
// (true/false, default false) means a person takes over from the bot: the
// assignee must then be an agent. Response: "updated", or "already updated"
// when the conversation already had that assignee.
//
// # POST /rest/ws/user/v2/detail — user details
//
// Request body: {"userIdList":[…]} (1 to 100 ids). Response: an array with
// one entry per known user, in request order; unknown ids are left out, as
// Kommunicate does. Users are contacts (end users); agents are not listed.
//
//	{"userId","userName","displayName","email","language","contactId",
//	 "connected":false,"createdAtTime",
//	 "metadata":{"KM_CHAT_CONTEXT":"<chat context JSON>","kmUserLanguageCode":…}}
//
// connected is always false until realtime presence exists.
//
// # POST /rest/ws/user/update — update user
//
// The Of-User-Id header names the user (a contact's userId; 404 when
// unknown). Body: displayName → name, email → email, metadata:
// kmUserLanguageCode → language, KM_CHAT_CONTEXT (object or JSON string) is
// merged into the chat context key by key, and every other metadata key is
// merged into the chat context as a string (choice: Switchboard keeps no
// separate user metadata, and the chat context is what bots read).
// imageLink, phoneNumber and the like are ignored. Response: "success".
package kmcompat
