package ingest

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// backupIdle is how long a backup download may make no progress. The
// server's write timeout bounds whole answers, which a database of some
// size cannot meet at a slow reader; a download is cut only when it stalls.
const backupIdle = time.Minute

// handleBackup sends a consistent copy of the database to an operator who
// presents the admin token. The copy is made into a temporary file first:
// its length is then known (a cut download shows as short), and the
// store's read transaction lasts as long as the disk takes, not as long as
// the operator's network does.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), s.opts.AdminToken) != 1 {
		s.log.Warn().Str("remote", r.RemoteAddr).Msg("admin request refused: bad or missing token")
		writeError(w, http.StatusUnauthorized, "missing or wrong admin token (Authorization: Bearer …)")
		return
	}
	start := s.opts.Now()
	f, err := os.CreateTemp(s.opts.TempDir, "socialroute-backup-*.db")
	if err != nil {
		s.log.Error().Err(err).Msg("backup failed")
		writeError(w, http.StatusInternalServerError, "backup failed; see the daemon's log")
		return
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	n, err := s.opts.Backup(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.log.Error().Err(err).Int64("bytes", n).Msg("backup failed")
		writeError(w, http.StatusInternalServerError, "backup failed; see the daemon's log")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="socialroute-%s.db"`, start.UTC().Format("20060102-150405")))
	sent, err := io.Copy(progressWriter{w: w, rc: http.NewResponseController(w)}, io.LimitReader(f, n))
	if err != nil {
		// Headers are gone already; the client sees a short body.
		s.log.Error().Err(err).Int64("bytes", sent).Int64("size", n).Msg("backup cut short")
		return
	}
	s.log.Info().Int64("bytes", n).Dur("took", time.Since(start)).Msg("backup sent")
}

// progressWriter gives each write backupIdle to complete, in place of the
// server's deadline for the whole answer.
type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (p progressWriter) Write(b []byte) (int, error) {
	if err := p.rc.SetWriteDeadline(time.Now().Add(backupIdle)); err != nil {
		return 0, fmt.Errorf("extend write deadline: %w", err)
	}
	return p.w.Write(b)
}
