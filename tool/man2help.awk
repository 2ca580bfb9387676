# man2help.awk - render the small man(7) subset of alsa-loopback.1 as plain
# text, wrapped at 78 columns, into a C string: the tool's --help is its man
# page, with no groff needed at build time.
#
# Handles .TH .SH .SS .PP .P .LP .TP .IP .RS .RE .br .nf .fi, the font
# macros .B .I .BR .BI .IR .RB .RI .IB and inline \fB \fI \fR \fP \- \e \&.

function inline(s) {
	gsub(/\\f[BIRP]/, "", s)
	gsub(/\\-/, "-", s)
	gsub(/\\\(em/, "--", s)
	gsub(/\\&/, "", s)
	gsub(/\\e/, "\\", s)
	return s
}

# Split macro arguments, honouring "quoted strings".
function args(s, out,    n, c, cur, q, i) {
	n = 0; cur = ""; q = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"") { q = !q; continue }
		if (c == " " && !q) {
			if (cur != "") { out[++n] = cur; cur = "" }
			continue
		}
		cur = cur c
	}
	if (cur != "") out[++n] = cur
	return n
}

function emit(line) {
	gsub(/\\/, "\\\\", line)
	gsub(/"/, "\\\"", line)
	print "\t\"" line "\\n\""
}

function pad(n,    s) {
	s = ""
	while (n-- > 0) s = s " "
	return s
}

function flush(    n, w, i, line) {
	if (para == "") return
	n = split(para, w, " ")
	line = ""
	for (i = 1; i <= n; i++) {
		if (line != "" && length(line) + 1 + length(w[i]) + ind > 78) {
			emit(pad(ind) line)
			line = ""
		}
		line = line (line == "" ? "" : " ") w[i]
	}
	if (line != "") emit(pad(ind) line)
	para = ""
}

function blank() {
	flush()
	if (!lastblank && started) emit("")
	lastblank = 1
}

function text(s) {
	s = inline(s)
	if (nofill) { emit(pad(base) s); lastblank = 0; return }
	if (tag) {
		emit(pad(base) s)
		ind = base + 7
		tag = 0
		lastblank = 0
		return
	}
	para = para (para == "" ? "" : " ") s
	lastblank = 0
}

BEGIN {
	print "/* Generated from alsa-loopback.1 by man2help.awk: do not edit. */"
	print "static const char help_text[] ="
	base = 0; ind = 0; para = ""; tag = 0; nofill = 0; lastblank = 1; started = 0
}

/^\.\\"/ { next }
/^\.TH/ { next }
/^\.SH/ || /^\.SS/ {
	blank()
	sub(/^\.S[HS] */, "")
	gsub(/"/, "")
	emit(inline($0))
	started = 1; lastblank = 1
	base = 7; ind = 7; tag = 0
	next
}
/^\.(PP|P|LP)( |$)/ { blank(); ind = base; tag = 0; next }
/^\.(TP|IP)( |$)/ { blank(); ind = base; tag = 1; next }
/^\.RS/ { flush(); base += 7; ind = base; next }
/^\.RE/ { flush(); base -= 7; if (base < 0) base = 0; ind = base; next }
/^\.br/ { flush(); next }
/^\.nf/ { flush(); nofill = 1; next }
/^\.fi/ { nofill = 0; next }
/^\.(B|I)( |$)/ {
	sub(/^\.[BI] */, "")
	n = args($0, a); s = ""
	for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") a[i]
	text(s)
	next
}
/^\.(BR|BI|IR|RB|RI|IB)( |$)/ {
	sub(/^\.[BIR][BIR] */, "")
	n = args($0, a); s = ""
	for (i = 1; i <= n; i++) s = s a[i]
	text(s)
	next
}
/^\./ { next }
{ text($0) }

END {
	flush()
	print ";"
}
