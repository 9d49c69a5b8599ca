package slackemu

import (
	"fmt"
	"net/http"
	"slices"
)

// SetUserGroup creates or replaces the user group id (S…) with members.
// usergroups.users.list answers with them.
func (s *Server) SetUserGroup(id string, members []string) error {
	if len(id) < 2 || id[0] != 'S' {
		return fmt.Errorf("user group id %q does not start with S", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(members)
	s.notifyLocked()
	return nil
}

// usergroupsUsersList answers like Slack: the group's member ids, or
// no_such_subteam for a group it does not know.
func (s *Server) usergroupsUsersList(_ *http.Request, p params) (obj, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	members, ok := s.groups[p.str("usergroup")]
	if !ok {
		return nil, "no_such_subteam"
	}
	return obj{"users": append([]string{}, members...)}, ""
}

// ephemeralFor returns the ephemeral message ts shown to user, which only
// that user can click on. Callers hold s.mu.
func (ch *channelState) ephemeralFor(ts, user string) (*Message, bool) {
	for i := range ch.ephemerals {
		if m := &ch.ephemerals[i]; m.TS == ts && m.Recipient == user {
			return m, true
		}
	}
	return nil, false
}
