package kmcompat

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Message list paging, in Kommunicate's terms.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

type sendMessageRequest struct {
	GroupID       flexID           `json:"groupId"`
	ClientGroupID flexID           `json:"clientGroupId"`
	Message       string           `json:"message"`
	ContentType   chat.ContentType `json:"contentType"`
	Metadata      chat.Metadata    `json:"metadata"`
	FromUserName  string           `json:"fromUserName"`
}

type sendMessageResponse struct {
	MessageKey    string `json:"messageKey"`
	Key           string `json:"key"`
	GroupID       string `json:"groupId"`
	Seq           int64  `json:"seq"`
	CreatedAt     int64  `json:"createdAt"`
	CreatedAtTime int64  `json:"createdAtTime"`
}

func (h *handler) sendMessage(w http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	var req sendMessageRequest
	if err := decode(w, r, &req); err != nil {
		return nil, err
	}
	in, err := sendInput(req)
	if err != nil {
		return nil, err
	}
	groupID, err := req.GroupID.get("groupId")
	if err != nil {
		return nil, err
	}
	clientGroupID, err := req.ClientGroupID.get("clientGroupId")
	if err != nil {
		return nil, err
	}
	id, err := requireGroupID(groupID, clientGroupID)
	if err != nil {
		return nil, err
	}
	ref, err := senderRef(r.Header.Get("Of-User-Id"), req.FromUserName)
	if err != nil {
		return nil, err
	}
	sender, err := h.svc.ResolveSender(ctx, actor, id, ref)
	if err != nil {
		return nil, err
	}
	in.Sender = sender
	msg, _, err := h.svc.SendMessage(ctx, actor, id, in)
	if err != nil {
		return nil, err
	}
	at := millis(msg.CreatedAt)
	return sendMessageResponse{MessageKey: msg.ID, Key: msg.ID, GroupID: msg.ConversationID, Seq: msg.Seq, CreatedAt: at, CreatedAtTime: at}, nil
}

// sendInput translates the body of a send. It is separate from the handler
// so that fuzzing reaches it without a database.
func sendInput(req sendMessageRequest) (service.SendInput, error) {
	in := service.SendInput{Text: req.Message, ContentType: req.ContentType, Metadata: req.Metadata}
	switch req.ContentType {
	case chat.ContentLocation:
		loc, err := parseLocation(req.Message)
		if err != nil {
			return in, err
		}
		in.Location, in.Text = loc, ""
	case chat.ContentAttachment:
		return in, chat.FieldError("contentType", "attachments cannot be sent here: upload with POST /api/v1/uploads and send with POST /api/v1/conversations/{id}/messages")
	}
	return in, nil
}

// senderRef picks who a message is sent as: the Of-User-Id header or the
// fromUserName field, which must agree when both are given.
func senderRef(header, field string) (string, error) {
	header, field = strings.TrimSpace(header), strings.TrimSpace(field)
	switch {
	case header != "" && field != "" && header != field:
		return "", chat.FieldError("fromUserName", "the Of-User-Id header and fromUserName name different senders")
	case header != "":
		return header, nil
	case field != "":
		return field, nil
	}
	return "", chat.FieldError("Of-User-Id", "say who sends the message: the Of-User-Id header (or fromUserName) must be the conversation's userId, or an agent's id or email, or a bot's id")
}

// parseLocation reads the point a location message carries in its text,
// as Kommunicate sends it: {"lat":…,"lon":…}.
func parseLocation(text string) (*chat.Location, error) {
	var p struct {
		Lat *float64 `json:"lat"`
		Lon *float64 `json:"lon"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&p); err != nil || p.Lat == nil || p.Lon == nil || dec.More() {
		return nil, chat.FieldError("message", `a location message (contentType 2) carries {"lat":…,"lon":…} as its message`)
	}
	loc := &chat.Location{Lat: *p.Lat, Lon: *p.Lon}
	if chat.ValidateLocation(loc) != nil {
		return nil, chat.FieldError("message", "a location must have lat in [-90, 90] and lon in [-180, 180]")
	}
	return loc, nil
}

// messageView is a message as Kommunicate lists it.
type messageView struct {
	Key           string        `json:"key"`
	GroupID       string        `json:"groupId"`
	Message       string        `json:"message"`
	ContentType   int           `json:"contentType"`
	Metadata      chat.Metadata `json:"metadata"`
	CreatedAtTime int64         `json:"createdAtTime"`
	From          string        `json:"from"`
	SenderType    string        `json:"senderType"`
	Seq           int64         `json:"seq"`
	FileMeta      *fileMeta     `json:"fileMeta,omitempty"`
	Attachments   []fileMeta    `json:"attachments,omitempty"`
}

type fileMeta struct {
	BlobKey     string `json:"blobKey"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	URL         string `json:"url"`
}

type messageListResponse struct {
	Message     []messageView `json:"message"`
	UserDetails []userView    `json:"userDetails"`
	GroupFeeds  []groupView   `json:"groupFeeds"`
}

func (h *handler) listMessages(_ http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	q := r.URL.Query()
	id, err := requireGroupID(strings.TrimSpace(q.Get("groupId")), q.Get("clientGroupId"))
	if err != nil {
		return nil, err
	}
	start, err := intParam(q.Get("startIndex"), "startIndex", 0, 0, 1<<40)
	if err != nil {
		return nil, err
	}
	size, err := intParam(q.Get("pageSize"), "pageSize", defaultPageSize, 1, maxPageSize)
	if err != nil {
		return nil, err
	}
	conv, err := h.svc.GetConversation(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	contact, err := h.svc.GetContact(ctx, actor, conv.ContactID)
	if err != nil {
		return nil, err
	}
	// Seqs run 1..LastSeq without gaps, so "skip the newest start, take
	// size" is an exact seq window, read oldest first and then reversed.
	var msgs []chat.Message
	if hi := conv.LastSeq - start; hi > 0 {
		lo := max(hi-size, 0)
		msgs, err = h.svc.ListMessages(ctx, actor, conv.ID, lo, int(hi-lo))
		if err != nil {
			return nil, err
		}
	}
	out := messageListResponse{
		Message:     make([]messageView, 0, len(msgs)),
		UserDetails: []userView{newUserView(contact)},
		GroupFeeds:  []groupView{newGroupView(conv, contact)},
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		out.Message = append(out.Message, h.newMessageView(&msgs[i], contact))
	}
	return out, nil
}

func (h *handler) newMessageView(m *chat.Message, contact *chat.Contact) messageView {
	v := messageView{
		Key:           m.ID,
		GroupID:       m.ConversationID,
		Message:       m.Text,
		ContentType:   int(m.ContentType),
		Metadata:      m.Metadata,
		CreatedAtTime: millis(m.CreatedAt),
		From:          m.Sender.ID,
		SenderType:    string(m.Sender.Type),
		Seq:           m.Seq,
	}
	if m.Sender.Type == chat.SenderContact && contact.UserID != "" {
		v.From = contact.UserID
	}
	if v.Message == "" && m.Location != nil {
		b, _ := json.Marshal(m.Location)
		v.Message = string(b)
	}
	for _, a := range m.Attachments {
		v.Attachments = append(v.Attachments, fileMeta{
			BlobKey: a.UploadID, Name: a.Name, Size: a.Size, ContentType: a.MimeType,
			URL: h.publicURL + h.svc.FileURL(m.AppID, a.UploadID),
		})
	}
	if len(v.Attachments) > 0 {
		v.FileMeta = &v.Attachments[0]
	}
	return v
}

// intParam reads an optional integer query parameter within [min, max].
func intParam(raw, name string, def, lo, hi int64) (int64, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, chat.FieldError(name, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}
