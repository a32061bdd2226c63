package server

import "time"

// SetClock replaces the clock used for prediction deadlines, so that tests of the deadline
// need no sleeping.
func SetClock(s *Server, now func() time.Time) { s.now = now }
