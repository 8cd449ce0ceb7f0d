package claims

import (
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
)

func TestNewsRewrites(t *testing.T) {
	items := []NewsItem{
		{ID: "a", Title: "Hà Nội cấm xe máy từ năm 2030", Summary: "Thành phố Hà Nội sẽ cấm xe máy ở các quận trung tâm từ năm 2030. Người dân phản đối."},
		{ID: "b", Title: "Giá vàng tăng mạnh", Summary: "Giá vàng trong nước hôm nay tăng mạnh theo đà thế giới, vượt mốc cũ."},
		{ID: "c", Title: "Bão số 3 đổ bộ miền Bắc", Summary: "Bão số 3 đã đổ bộ vào các tỉnh miền Bắc gây mưa lớn diện rộng."},
		{ID: "d", Title: "Học sinh nghỉ học vì bão", Summary: "Hàng nghìn học sinh được nghỉ học để tránh bão số 3 đang đến gần."},
		{ID: "e", Title: "Hà Nội cấm xe máy từ năm 2030", Summary: "Bản tin khác về cùng quyết định cấm xe máy của Hà Nội, năm 2030."},
		{ID: "f", Title: "", Summary: "no headline"},
	}
	facts, queries, qrels, style := NewsRewrites(items, items, "vi")
	if len(facts) != 4 {
		t.Fatalf("facts %+v, want 4 unique headlines", facts)
	}
	if len(queries) != 5 {
		t.Fatalf("queries %+v, want one per item with a headline", queries)
	}
	for i, q := range queries {
		st := style[q.ID]
		if st != i%NumRewrites {
			t.Errorf("%s: style %d, want %d", q.ID, st, i%NumRewrites)
		}
		if (st == RewriteLedeUnaccented || st == RewriteHeadlineFolded) && text.HasDiacritics(q.Text) {
			t.Errorf("%s: unaccented rewrite has diacritics: %q", q.ID, q.Text)
		}
		if len(qrels[q.ID]) != 1 {
			t.Errorf("%s: qrels %v", q.ID, qrels[q.ID])
		}
	}
	// The duplicate headline "e" is relevant to its first fact, "a".
	if !qrels[queries[4].ID]["a"] {
		t.Errorf("duplicate headline post relevant to %v, want a", qrels[queries[4].ID])
	}
	if got := queries[0].Text; got != "Thành phố Hà Nội sẽ cấm xe máy ở các quận trung tâm từ năm 2030." {
		t.Errorf("lede %q", got)
	}
}

func FuzzReadNewsItems(f *testing.F) {
	f.Add(`{"id":"a","title":"Hà Nội","summary":"Một. Hai ba bốn năm sáu bảy tám chín mười. Ba."}` + "\n\n")
	f.Add(`{"id":1}`)
	f.Add(`{"id":"x","title":" \t ","summary":"s"}`)
	f.Fuzz(func(t *testing.T, s string) {
		items, err := ReadNewsItems(strings.NewReader(s))
		if err != nil {
			return
		}
		facts, queries, qrels, _ := NewsRewrites(items, items, "vi")
		if len(queries) > len(items) || len(facts) > len(items) {
			t.Fatalf("%d facts, %d queries from %d items", len(facts), len(queries), len(items))
		}
		ids := map[string]bool{}
		for _, fc := range facts {
			ids[fc.ID] = true
		}
		for _, q := range queries {
			for id := range qrels[q.ID] {
				if !ids[id] {
					t.Fatalf("query %s relevant to unknown fact %q", q.ID, id)
				}
			}
		}
		for _, it := range items {
			if l := lede(it.Summary); !strings.HasPrefix(strings.TrimSpace(it.Summary), l) {
				t.Fatalf("lede %q is not a prefix of %q", l, it.Summary)
			}
		}
	})
}

func TestNewsOutletSets(t *testing.T) {
	day1 := []NewsItem{
		{ID: "a", Source: "VnExpress", Title: "Hà Nội cấm xe máy", Summary: "Thành phố sẽ cấm xe máy ở \"quận trung tâm\"."},
		{ID: "b", Source: "VnExpress - Thế Giới", Title: "Bão lớn ở Philippines", Summary: "Một cơn bão lớn đổ bộ Philippines."},
		{ID: "c", Source: "Tuổi Trẻ", Title: "Hà Nội cấm xe máy", Summary: "Hà Nội sẽ cấm xe máy từ năm 2030."},
		{ID: "d", Source: "VnExpress", Title: "Giá vàng tăng", Summary: "Giá vàng tăng"},     // summary = headline: no post
		{ID: "e", Source: "VnExpress", Title: "Hà Nội cấm xe máy", Summary: "Bản tin khác."}, // headline already used
	}
	day2 := []NewsItem{{ID: "f", Source: "Tuổi Trẻ", Title: "Mưa lớn ở miền Bắc", Summary: "Miền Bắc mưa lớn kéo dài."}}
	sets := NewsOutletSets(append(slices.Clone(day1), day2...), day1)
	if len(sets) != 2 || sets[0].Outlet != "tuoitre" || sets[1].Outlet != "vnexpress" {
		t.Fatalf("outlets %+v", sets)
	}
	tt, vn := sets[0], sets[1]
	// Each outlet has its own pool: the same headline is a fact of both.
	if len(tt.Facts) != 2 || len(vn.Facts) != 3 || len(tt.Queries) != 1 || len(vn.Queries) != 2 {
		t.Fatalf("tuoitre %d facts %d posts, vnexpress %d facts %d posts", len(tt.Facts), len(tt.Queries), len(vn.Facts), len(vn.Queries))
	}
	if q := vn.Queries[0]; q.Text != "Thành phố sẽ cấm xe máy ở “quận trung tâm“." || !vn.Qrels[q.ID]["a"] {
		t.Errorf("first post %+v %v", q, vn.Qrels[q.ID])
	}
	if q := vn.Queries[1]; q.Text != "Mot con bao lon do bo Philippines." || !vn.Qrels[q.ID]["b"] {
		t.Errorf("second post, unaccented: %+v %v", q, vn.Qrels[q.ID])
	}
	if q := tt.Queries[0]; !tt.Qrels[q.ID]["c"] {
		t.Errorf("tuoitre post relevant to %v, want its own headline c", tt.Qrels[q.ID])
	}
	// Training sets: each day's posts against that day's and the next
	// day's headlines (the last day: the day before and its own).
	ts := NewsOutletTrainSets([][]NewsItem{day1, day2})
	var n int
	for _, s := range ts {
		n += len(s.Queries)
		if !s.Synthetic {
			t.Errorf("%s: a fact has one post, so no post is an appearance: want Synthetic", s.Name)
		}
	}
	if n != 4 {
		t.Errorf("%d training posts, want 4", n)
	}
}
