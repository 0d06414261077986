package kmcompat

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Metadata keys Kommunicate gives a meaning to.
const (
	metaTitle         = "KM_CONVERSATION_TITLE"
	metaSkipRouting   = "SKIP_ROUTING"
	metaAssignee      = "CONVERSATION_ASSIGNEE"
	metaChatContext   = "KM_CHAT_CONTEXT"
	metaClientGroupID = "clientGroupId"
	metaUserLanguage  = "kmUserLanguageCode"
)

// supportGroupType is Kommunicate's group type of a support conversation,
// the only kind Switchboard has.
const supportGroupType = 10

// maxMembers bounds each id list of a create request; a support
// conversation has one user and a handful of agents and bots.
const maxMembers = 50

type createConversationRequest struct {
	GroupName       string        `json:"groupName"`
	GroupMemberList []string      `json:"groupMemberList"`
	AgentIDs        []string      `json:"agentIds"`
	BotIDs          []string      `json:"botIds"`
	Assignee        string        `json:"assignee"`
	SkipRouting     *bool         `json:"skipRouting"`
	TeamID          flexID        `json:"teamId"`
	ClientGroupID   flexID        `json:"clientGroupId"`
	Type            *int          `json:"type"`
	Metadata        chat.Metadata `json:"metadata"`
}

// groupView is a conversation as Kommunicate shows a group.
type groupView struct {
	ID            string        `json:"id"`
	GroupID       string        `json:"groupId"`
	ClientGroupID string        `json:"clientGroupId"`
	Name          string        `json:"name"`
	Type          int           `json:"type"`
	Status        chat.Status   `json:"status"`
	Assignee      string        `json:"assignee"`
	AssigneeType  string        `json:"assigneeType"`
	UserID        string        `json:"userId"`
	ContactID     string        `json:"contactId"`
	TeamID        string        `json:"teamId"`
	Metadata      chat.Metadata `json:"metadata"`
	CreatedAtTime int64         `json:"createdAtTime"`
	UpdatedAtTime int64         `json:"updatedAtTime"`
}

func newGroupView(c *chat.Conversation, contact *chat.Contact) groupView {
	g := groupView{
		ID:            c.ID,
		GroupID:       c.ID,
		ClientGroupID: c.Metadata[metaClientGroupID],
		Name:          c.Metadata[metaTitle],
		Type:          supportGroupType,
		Status:        c.Status,
		ContactID:     c.ContactID,
		TeamID:        c.TeamID,
		Metadata:      c.Metadata,
		CreatedAtTime: millis(c.CreatedAt),
		UpdatedAtTime: millis(c.UpdatedAt),
	}
	if g.ClientGroupID == "" {
		g.ClientGroupID = c.ID
	}
	if c.Assignee != nil {
		g.Assignee, g.AssigneeType = c.Assignee.ID, string(c.Assignee.Type)
	}
	if contact != nil {
		g.UserID = contact.UserID
	}
	return g
}

func (h *handler) createConversation(w http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	var req createConversationRequest
	if err := decode(w, r, &req); err != nil {
		return nil, err
	}
	in, err := h.newConversation(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	conv, err := h.svc.StartConversation(ctx, actor, in)
	if err != nil {
		return nil, err
	}
	contact, err := h.svc.GetContact(ctx, actor, conv.ContactID)
	if err != nil {
		return nil, err
	}
	return newGroupView(conv, contact), nil
}

// newConversation translates a create request, checking everything before
// anything is created so that a bad request changes nothing.
func (h *handler) newConversation(ctx context.Context, actor service.Actor, req createConversationRequest) (service.NewConversation, error) {
	var in service.NewConversation
	if err := chat.ValidateName("groupName", strings.TrimSpace(req.GroupName), true); err != nil {
		return in, err
	}
	if req.Type != nil && *req.Type != supportGroupType {
		return in, chat.FieldError("type", "type must be %d (a support conversation), the only kind Switchboard has", supportGroupType)
	}
	for _, l := range []struct {
		field string
		ids   []string
	}{{"groupMemberList", req.GroupMemberList}, {"agentIds", req.AgentIDs}, {"botIds", req.BotIDs}} {
		if len(l.ids) > maxMembers {
			return in, chat.FieldError(l.field, "%s may name at most %d ids", l.field, maxMembers)
		}
	}
	meta := req.Metadata.Clone()
	if meta == nil {
		meta = chat.Metadata{}
	}
	if err := meta.Validate("metadata"); err != nil {
		return in, err
	}

	skip, err := skipRouting(req.SkipRouting, meta)
	if err != nil {
		return in, err
	}
	in.SkipRouting = skip

	assignee := strings.TrimSpace(req.Assignee)
	if assignee == "" {
		assignee = strings.TrimSpace(meta[metaAssignee])
	}
	if assignee != "" {
		a, err := h.resolveMember(ctx, actor, "assignee", assignee)
		if err != nil {
			return in, err
		}
		in.Assignee = a
	}
	if err := h.checkMembers(ctx, actor, "agentIds", req.AgentIDs, chat.AssigneeAgent); err != nil {
		return in, err
	}
	if err := h.checkMembers(ctx, actor, "botIds", req.BotIDs, chat.AssigneeBot); err != nil {
		return in, err
	}
	userID, err := h.memberUser(ctx, actor, req.GroupMemberList)
	if err != nil {
		return in, err
	}
	in.Contact.UserID = userID

	if raw, ok := meta[metaChatContext]; ok && strings.TrimSpace(raw) != "" {
		cc, err := chatContextObject("metadata."+metaChatContext, raw)
		if err != nil {
			return in, err
		}
		in.Contact.ChatContext = cc
	}
	clientGroupID, err := req.ClientGroupID.get("clientGroupId")
	if err != nil {
		return in, err
	}
	if clientGroupID != "" {
		if err := chat.ValidateID("clientGroupId", clientGroupID); err != nil {
			return in, err
		}
		meta[metaClientGroupID] = clientGroupID
	}
	teamID, err := req.TeamID.get("teamId")
	if err != nil {
		return in, err
	}
	if meta[metaTitle] == "" {
		meta[metaTitle] = strings.TrimSpace(req.GroupName)
	}
	if teamID != "" {
		// Checked here as well as in the store, because StartConversation
		// creates the contact before the store sees the team: a bad teamId
		// would otherwise leave a new contact behind.
		if _, err := h.svc.GetTeam(ctx, actor, teamID); err != nil {
			if chat.IsCode(err, chat.CodeNotFound) {
				return in, chat.FieldError("teamId", "teamId: no team %q in this app", teamID)
			}
			return in, err
		}
	}
	in.TeamID = teamID
	in.Metadata = meta
	return in, nil
}

// skipRouting reads the flag from the body or, as Kommunicate also allows,
// from metadata, where it arrives as "true" or "false".
func skipRouting(body *bool, meta chat.Metadata) (bool, error) {
	if body != nil {
		return *body, nil
	}
	v, ok := meta[metaSkipRouting]
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, chat.FieldError("metadata."+metaSkipRouting, "metadata.%s must be true or false", metaSkipRouting)
	}
	return b, nil
}

// resolveMember names an agent or bot of the app, as a field error when
// there is none, since the caller sent a reference that cannot be followed.
func (h *handler) resolveMember(ctx context.Context, actor service.Actor, field, ref string) (*chat.Assignee, error) {
	a, err := h.svc.ResolveAgentOrBot(ctx, actor, ref)
	if chat.IsCode(err, chat.CodeNotFound) {
		return nil, chat.FieldError(field, "%s: no agent or bot %q in this app", field, ref)
	}
	return a, err
}

func (h *handler) checkMembers(ctx context.Context, actor service.Actor, field string, refs []string, want chat.AssigneeType) error {
	for _, ref := range refs {
		a, err := h.resolveMember(ctx, actor, field, ref)
		if err != nil {
			return err
		}
		if a.Type != want {
			return chat.FieldError(field, "%s: %q is a %s, not a %s", field, ref, a.Type, want)
		}
	}
	return nil
}

// memberUser finds the one member that is neither an agent nor a bot: the
// end user the conversation is with.
func (h *handler) memberUser(ctx context.Context, actor service.Actor, members []string) (string, error) {
	var users []string
	seen := map[string]bool{}
	for _, ref := range members {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			return "", chat.FieldError("groupMemberList", "groupMemberList holds an empty id")
		}
		_, err := h.svc.ResolveAgentOrBot(ctx, actor, ref)
		if err == nil {
			continue
		}
		if !chat.IsCode(err, chat.CodeNotFound) {
			return "", err
		}
		if !seen[ref] {
			seen[ref] = true
			users = append(users, ref)
		}
	}
	switch {
	case len(users) == 0:
		return "", chat.FieldError("groupMemberList", "groupMemberList must name the user the conversation is with")
	case len(users) > 1:
		return "", chat.FieldError("groupMemberList", "a conversation is with one user, but groupMemberList names %d that are not agents or bots of the app: %s", len(users), strings.Join(users, ", "))
	}
	if err := chat.ValidateUserID("groupMemberList", users[0]); err != nil {
		return "", err
	}
	return users[0], nil
}

// chatContextObject reads a chat context given as a JSON object (which
// chat.Metadata has already turned into its JSON text) or as a string that
// holds one.
func chatContextObject(field, raw string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return nil, chat.FieldError(field, "%s must be a JSON object, or a string holding one", field)
	}
	return json.RawMessage(raw), nil
}

func (h *handler) changeStatus(_ http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	q := r.URL.Query()
	id, err := requireGroupID(strings.TrimSpace(q.Get("groupId")), q.Get("clientGroupId"))
	if err != nil {
		return nil, err
	}
	raw := strings.TrimSpace(q.Get("status"))
	if raw == "" {
		return nil, chat.FieldError("status", "status is required")
	}
	n, err := strconv.Atoi(raw)
	if err != nil || !chat.Status(n).Valid() {
		return nil, chat.FieldError("status", "status must be one of 0 (open), 2 (resolved), 3 (spam), 4 (duplicate), 6 (unresponded) or 7 (waiting), not %q", raw)
	}
	if _, err := h.svc.ChangeStatus(ctx, actor, id, chat.Status(n)); err != nil {
		return nil, err
	}
	return "updated", nil
}

func (h *handler) changeAssignee(_ http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	q := r.URL.Query()
	id, err := requireGroupID(strings.TrimSpace(q.Get("groupId")), q.Get("clientGroupId"))
	if err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(q.Get("assignee"))
	if ref == "" {
		return nil, chat.FieldError("assignee", "assignee is required: an agent's id or email, or a bot's id")
	}
	var opt service.AssignOptions
	if v := q.Get("takeOverFromBot"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, chat.FieldError("takeOverFromBot", "takeOverFromBot must be true or false")
		}
		opt.TakeOverFromBot = b
	}
	// The conversation first: an unknown groupId is a 404 whatever else is wrong.
	if _, err := h.svc.GetConversation(ctx, actor, id); err != nil {
		return nil, err
	}
	to, err := h.resolveMember(ctx, actor, "assignee", ref)
	if err != nil {
		return nil, err
	}
	_, changed, err := h.svc.AssignConversation(ctx, actor, id, to, opt)
	if err != nil {
		return nil, err
	}
	if !changed {
		return "already updated", nil
	}
	return "updated", nil
}
