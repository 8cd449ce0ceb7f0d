package bench

// Word lists and templates of the generator. They are small on purpose:
// what matters for throughput is realistic length, script and diacritics
// (Vietnamese text exercises the normaliser's folding much more than
// ASCII), and what matters for matching is that restated claims share the
// facts' content words while ordinary posts share only common ones.

type lexicon struct {
	lang string
	// Ordinary chatter: opener + subject + verb phrase + place + closer.
	openers, subjects, verbs, places, closers []string
	// Claim slots; a fact is one combination of them.
	claimSubjects, claimActions, claimObjects []string
	claimTemplate                             string // %[1]s subject, %[2]s action, %[3]s object, %[4]s place
	// restate wraps a fact's claim in a post's words.
	restate []string // %s is the claim
	ratings []string // the publisher's wording of a false verdict
}

var lexicons = []lexicon{
	{
		lang:     "vi",
		openers:  []string{"Sáng nay", "Chiều qua", "Theo người dân", "Tin nóng:", "Cập nhật:", "Mọi người ơi,", "Vừa xong,", "Nghe nói"},
		subjects: []string{"lượng xe máy", "giá xăng", "trận mưa lớn", "đoàn thanh niên", "công nhân môi trường", "học sinh tiểu học", "chợ hoa", "đội bóng địa phương", "ban quản lý khu phố", "người bán hàng rong"},
		verbs:    []string{"tăng mạnh", "gây ách tắc", "được hoan nghênh", "đã hoàn thành công việc", "tổ chức lễ hội", "khiến nhiều người bất ngờ", "vẫn chưa được giải quyết", "đón nhận nhiều ý kiến"},
		places:   []string{"ở Hà Nội", "trên phố Hàng Bài", "tại quận Hoàn Kiếm", "gần hồ Tây", "ở Cầu Giấy", "tại Long Biên", "trên đường Giải Phóng", "ở khu đô thị mới"},
		closers:  []string{"Mọi người chú ý nhé.", "Thật đáng suy nghĩ.", "Chia sẻ để nhiều người biết.", "Ai ở gần đó không?", "Hy vọng sớm ổn định.", ""},
		claimSubjects: []string{"Uống nước chanh nóng", "Ăn tỏi sống mỗi ngày", "Xông lá sả", "Uống nước muối ấm", "Tắm nước lạnh buổi sáng",
			"Dùng dầu gió", "Ăn gừng tươi", "Uống trà xanh đặc", "Súc miệng bằng giấm", "Phơi nắng giữa trưa", "Uống rượu thuốc", "Ăn nghệ vàng"},
		claimActions: []string{"chữa khỏi", "ngăn ngừa hoàn toàn", "tiêu diệt virus gây", "giúp miễn nhiễm với", "đẩy lùi", "làm biến mất"},
		claimObjects: []string{"bệnh cúm", "sốt xuất huyết", "ung thư gan", "tiểu đường", "bệnh tay chân miệng", "viêm phổi", "COVID-19", "cao huyết áp",
			"sỏi thận", "bệnh gút", "viêm họng", "đau dạ dày", "mất ngủ", "béo phì", "viêm xoang"},
		claimTemplate: "%[1]s %[2]s %[3]s trong vòng ba ngày, theo một bác sĩ %[4]s",
		restate:       []string{"Mọi người chia sẻ gấp: %s", "Có thật không? %s", "Bà tôi nói %s", "%s. Ai đã thử chưa?", "Tin mới: %s"},
		ratings:       []string{"Sai sự thật", "Tin giả", "Sai"},
	},
	{
		lang:     "fr",
		openers:  []string{"Ce matin,", "Hier soir,", "Selon les habitants,", "Info :", "Mise à jour :", "Franchement,", "À l'instant,", "On dit que"},
		subjects: []string{"le trafic", "le prix de l'essence", "l'orage", "l'association du quartier", "les éboueurs", "les élèves de primaire", "le marché aux fleurs", "l'équipe locale", "la mairie", "les vendeurs ambulants"},
		verbs:    []string{"augmente fortement", "provoque des bouchons", "est salué par tous", "a terminé les travaux", "organise une fête", "surprend beaucoup de monde", "n'est toujours pas réglé", "suscite des réactions"},
		places:   []string{"à Hanoï", "rue Tràng Tiền", "dans le quartier Hoàn Kiếm", "près du lac de l'Ouest", "à Cầu Giấy", "à Long Biên", "avenue Giải Phóng", "dans la nouvelle zone urbaine"},
		closers:  []string{"Faites attention.", "À méditer.", "Partagez autour de vous.", "Quelqu'un sur place ?", "Espérons que ça s'arrange.", ""},
		claimSubjects: []string{"Boire de l'eau chaude citronnée", "Manger de l'ail cru chaque jour", "Inhaler de la citronnelle", "Boire de l'eau salée tiède", "Prendre une douche froide le matin",
			"Appliquer du baume du tigre", "Mâcher du gingembre frais", "Boire du thé vert fort", "Se gargariser au vinaigre", "S'exposer au soleil à midi", "Boire de l'alcool de riz", "Manger du curcuma"},
		claimActions: []string{"guérit", "protège totalement contre", "tue le virus de", "immunise contre", "fait reculer", "fait disparaître"},
		claimObjects: []string{"la grippe", "la dengue", "le cancer du foie", "le diabète", "la maladie pieds-mains-bouche", "la pneumonie", "le COVID-19", "l'hypertension",
			"les calculs rénaux", "la goutte", "l'angine", "l'ulcère de l'estomac", "l'insomnie", "l'obésité", "la sinusite"},
		claimTemplate: "%[1]s %[2]s %[3]s en trois jours, selon un médecin %[4]s",
		restate:       []string{"Partagez vite : %s", "C'est vrai ? %s", "Ma tante dit que %s", "%s. Quelqu'un a essayé ?", "Nouveau : %s"},
		ratings:       []string{"Faux", "Trompeur", "Fausse information"},
	},
	{
		lang:     "en",
		openers:  []string{"This morning,", "Last night,", "According to residents,", "Breaking:", "Update:", "Honestly,", "Just now,", "People say"},
		subjects: []string{"traffic", "the fuel price", "the storm", "the neighbourhood association", "street cleaners", "primary school pupils", "the flower market", "the local team", "the district office", "street vendors"},
		verbs:    []string{"is rising fast", "is causing jams", "is praised by everyone", "finished the works", "is holding a festival", "surprised a lot of people", "is still not fixed", "drew many comments"},
		places:   []string{"in Hanoi", "on Trang Tien street", "in Hoan Kiem district", "near West Lake", "in Cau Giay", "in Long Bien", "on Giai Phong road", "in the new urban area"},
		closers:  []string{"Take care.", "Food for thought.", "Share this.", "Anyone nearby?", "Hope it settles soon.", ""},
		claimSubjects: []string{"Drinking hot lemon water", "Eating raw garlic every day", "Inhaling lemongrass steam", "Drinking warm salt water", "Taking a cold shower every morning",
			"Rubbing tiger balm", "Chewing fresh ginger", "Drinking strong green tea", "Gargling vinegar", "Sunbathing at noon", "Drinking rice wine", "Eating turmeric"},
		claimActions: []string{"cures", "fully prevents", "kills the virus behind", "makes you immune to", "reverses", "makes disappear"},
		claimObjects: []string{"the flu", "dengue fever", "liver cancer", "diabetes", "hand, foot and mouth disease", "pneumonia", "COVID-19", "high blood pressure",
			"kidney stones", "gout", "sore throat", "stomach ulcers", "insomnia", "obesity", "sinusitis"},
		claimTemplate: "%[1]s %[2]s %[3]s within three days, says a doctor %[4]s",
		restate:       []string{"Share urgently: %s", "Is this true? %s", "My aunt says %s", "%s. Has anyone tried it?", "New: %s"},
		ratings:       []string{"False", "Pants on Fire", "Misleading"},
	},
}

// doctorPlaces distinguish otherwise identical claims ("… says a doctor
// from Ba Dinh"); with them the slot combinations exceed 15,000 per
// language, so every generated fact is a distinct claim.
var doctorPlaces = []string{
	"Ba Đình", "Hoàn Kiếm", "Tây Hồ", "Long Biên", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàng Mai", "Thanh Xuân", "Sóc Sơn",
	"Đông Anh", "Gia Lâm", "Nam Từ Liêm", "Thanh Trì", "Bắc Từ Liêm", "Mê Linh", "Hà Đông", "Sơn Tây", "Ba Vì", "Phúc Thọ",
	"Đan Phượng", "Hoài Đức", "Quốc Oai", "Thạch Thất", "Chương Mỹ", "Thanh Oai", "Thường Tín", "Phú Xuyên", "Ứng Hòa", "Mỹ Đức",
}

// hashtagStems build the hashtag vocabulary (stem + number), ASCII and
// lower-case so that a tag's topic key is exactly "#" + tag.
var hashtagStems = []string{
	"hanoi", "tintuc", "giaothong", "thoitiet", "suckhoe", "bongda", "covid", "giaoduc", "kinhte", "dulich",
	"actu", "meteo", "sante", "trafic", "news", "health", "traffic", "weather", "football", "vietnam",
}
