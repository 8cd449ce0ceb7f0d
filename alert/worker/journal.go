package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
)

// delivery is one notification on its way to one channel.
type delivery struct {
	ID       string              `json:"id"` // idempotency key + "/" + channel
	FactID   string              `json:"fact_id"`
	Channel  string              `json:"channel"`
	N        notify.Notification `json:"n"`
	Deadline time.Time           `json:"deadline"`
	Attempts int                 `json:"attempts"`
	Next     time.Time           `json:"next"`
	// Dead holds the reason once the channel gave up; the delivery stays
	// pending until the dead-letter sink has accepted it.
	Dead     string `json:"dead,omitempty"`
	inFlight bool
	// Position in a sched heap; heap is nil when in none.
	heap *delHeap
	hidx int
}

// record is one journal line.
type record struct {
	Op    string `json:"op"` // epoch, delta, queue, done, policy
	Epoch int64  `json:"epoch,omitempty"`
	// Policy is a policy change (an admin's setting), journaled between
	// the batches it came between so a replay decides as the run did.
	Policy   *policy.Config `json:"policy,omitempty"`
	Delta    *cases.Delta   `json:"delta,omitempty"`
	Delivery *delivery      `json:"delivery,omitempty"`
	ID       string         `json:"id,omitempty"`
}

// snapshot is the compacted state.
type snapshot struct {
	Epoch      int64          `json:"epoch"`
	Policy     *policy.Config `json:"policy,omitempty"` // the policy set by SetPolicy, if any
	Facts      []cases.Delta  `json:"facts"`
	Deliveries []*delivery    `json:"deliveries"`
}

// journal is the alerter's write-ahead log: append-only JSON lines, one
// fsync per batch, compacted into a snapshot. A line torn by SIGKILL is
// ignored on load; it was never acknowledged, so nothing is lost.
type journal struct {
	dir   string
	lock  *os.File
	f     *os.File
	epoch int64
	size  int64
}

const (
	journalName  = "alerter.journal"
	snapshotName = "alerter.snapshot.json"
)

// openJournal loads the snapshot and replays the journal into apply.
func openJournal(dir string, apply func(record) error) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create state dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	j := &journal{dir: dir, lock: lock}
	ok := false
	defer func() {
		if !ok && lock != nil {
			lock.Close()
		}
	}()
	b, err := os.ReadFile(filepath.Join(dir, snapshotName))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("cannot read snapshot: %w", err)
	default:
		var s snapshot
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("cannot decode snapshot %s: %w", filepath.Join(dir, snapshotName), err)
		}
		j.epoch = s.Epoch
		if s.Policy != nil {
			if err := apply(record{Op: "policy", Policy: s.Policy}); err != nil {
				return nil, err
			}
		}
		for i := range s.Facts {
			if err := apply(record{Op: "delta", Delta: &s.Facts[i]}); err != nil {
				return nil, err
			}
		}
		for _, d := range s.Deliveries {
			if err := apply(record{Op: "queue", Delivery: d}); err != nil {
				return nil, err
			}
		}
	}
	path := filepath.Join(dir, journalName)
	if f, err := os.Open(path); err == nil {
		stale := false
		err = cases.ReadLines(f, func(line []byte) error {
			var r record
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			if r.Op == "epoch" {
				// A journal older than the snapshot was compacted into it
				// (the process died between rename and truncate).
				stale = r.Epoch < j.epoch
				return nil
			}
			if stale {
				return nil
			}
			return apply(r)
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("cannot replay journal %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cannot open journal: %w", err)
	}
	ok = true
	return j, nil
}

// Append writes recs and fsyncs once.
func (j *journal) Append(recs []record) error { return j.write(recs, true) }

// AppendLazy writes recs without waiting for the disk: for records whose
// loss in a machine crash only repeats work the receivers drop by key
// (a delivery's "done"). The next Append's fsync makes them durable too,
// and a killed process loses nothing the kernel already has.
func (j *journal) AppendLazy(recs []record) error { return j.write(recs, false) }

func (j *journal) write(recs []record, sync bool) error {
	if len(recs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return fmt.Errorf("cannot encode journal record: %w", err)
		}
	}
	if j.f == nil {
		return errors.New("journal is closed")
	}
	n, err := j.f.Write(buf.Bytes())
	j.size += int64(n)
	if err != nil {
		return fmt.Errorf("cannot append to journal: %w", err)
	}
	if !sync {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("cannot sync journal: %w", err)
	}
	return nil
}

// Compact writes s as the new snapshot and starts an empty journal.
func (j *journal) Compact(s snapshot) error {
	s.Epoch = j.epoch + 1
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("cannot encode snapshot: %w", err)
	}
	tmp := filepath.Join(j.dir, snapshotName+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("cannot write snapshot: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("cannot write snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot sync snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write snapshot: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, snapshotName)); err != nil {
		return fmt.Errorf("cannot install snapshot: %w", err)
	}
	syncDir(j.dir)
	j.epoch = s.Epoch
	// A new journal file, installed by rename, so a crash leaves either the
	// old journal (stale epoch, skipped) or the new empty one.
	jtmp := filepath.Join(j.dir, journalName+".tmp")
	nf, err := os.OpenFile(jtmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("cannot create journal: %w", err)
	}
	hdr, _ := json.Marshal(record{Op: "epoch", Epoch: j.epoch})
	if _, err := nf.Write(append(hdr, '\n')); err != nil {
		nf.Close()
		return fmt.Errorf("cannot write journal: %w", err)
	}
	if err := nf.Sync(); err != nil {
		nf.Close()
		return fmt.Errorf("cannot sync journal: %w", err)
	}
	if err := os.Rename(jtmp, filepath.Join(j.dir, journalName)); err != nil {
		nf.Close()
		return fmt.Errorf("cannot install journal: %w", err)
	}
	syncDir(j.dir)
	if j.f != nil {
		j.f.Close()
	}
	// nf was opened write-only without O_APPEND at offset len(hdr): later
	// writes continue after the header.
	j.f, j.size = nf, int64(len(hdr)+1)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Close closes the journal file and releases the state dir.
func (j *journal) Close() error {
	var err error
	if j.f != nil {
		err = j.f.Close()
		j.f = nil
	}
	if j.lock != nil {
		j.lock.Close()
		j.lock = nil
	}
	return err
}
