package ingest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// handleBackup streams a consistent copy of the database to an operator
// who presents the admin token.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), s.opts.AdminToken) != 1 {
		s.log.Warn().Str("remote", r.RemoteAddr).Msg("admin request refused: bad or missing token")
		writeError(w, http.StatusUnauthorized, "missing or wrong admin token (Authorization: Bearer …)")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="socialroute-%s.db"`, s.opts.Now().UTC().Format("20060102-150405")))
	start := s.opts.Now()
	n, err := s.opts.Backup(w)
	if err != nil {
		// Headers are gone already; the client sees a short body.
		s.log.Error().Err(err).Int64("bytes", n).Msg("backup failed")
		return
	}
	s.log.Info().Int64("bytes", n).Dur("took", time.Since(start)).Msg("backup sent")
}
