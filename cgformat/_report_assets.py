"""The HTML report page's style sheet and script (:mod:`cgformat.report_html` renders the page around them;
the page's content security policy admits exactly these two, by their hashes)."""

CSS = """
:root{--ink:#101828;--soft:#475467;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;
--err:#b42318;--errbg:#fef3f2;--errline:#fda29b;--warn:#93370d;--warnbar:#f79009;--warnbg:#fffaeb;
--warnline:#fec84b;--ok:#067647;--okbg:#ecfdf3;--accent:#1849a9}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1240px;margin:0 auto;padding:28px 28px 40px}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:12px 20px;margin-bottom:20px}
header.top h1{font-size:22px;margin:0;font-weight:650;letter-spacing:-.01em;overflow-wrap:anywhere;flex:1 1 420px}
header.top h1 small{display:block;font-size:13px;font-weight:500;color:var(--muted);letter-spacing:0;
text-transform:uppercase}
.verdict{display:inline-flex;align-items:center;gap:8px;padding:8px 16px;border-radius:999px;font-weight:700;
font-size:15px;border:2px solid}
.verdict.bad{color:var(--err);background:var(--errbg);border-color:var(--errline)}
.verdict.good{color:var(--ok);background:var(--okbg);border-color:#75e0a7}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;
margin:0 0 18px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
h2{font-size:16px;margin:0 0 12px;font-weight:650}
h3{font-size:14px;margin:0 0 8px;font-weight:650;color:var(--soft)}
.lead{margin:-4px 0 14px;font-size:15px;color:var(--soft)}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:16px}
.stat{border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.stat b{display:block;font-size:24px;line-height:1.2;font-variant-numeric:tabular-nums}
.stat span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.stat.e{border-left:4px solid var(--err)}.stat.e b{color:var(--err)}
.stat.w{border-left:4px solid var(--warnbar)}.stat.w b{color:var(--warn)}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:2px 24px;margin:0}
dl.facts div.wide{grid-column:1/-1}
dl.facts div{display:flex;gap:12px;padding:5px 0;border-bottom:1px dashed var(--line)}
dl.facts dt{color:var(--muted);min-width:80px}
dl.facts dd{margin:0;font-weight:550;overflow-wrap:anywhere}
.over{color:var(--err);font-weight:700}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:18px;margin:0 0 18px}
.charts section{margin:0}
svg.chart{width:100%;height:auto;display:block}
svg.chart text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--ink)}
svg.chart text.n{font-weight:650;font-variant-numeric:tabular-nums}
.legend{display:flex;gap:16px;font-size:12px;color:var(--soft);margin-top:6px}
.key{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:5px}
.key.e{background:var(--err)}
.key.w{background:repeating-linear-gradient(45deg,var(--warnbar) 0 3px,#fde7c2 3px 5px)}
.note{background:var(--warnbg);border:1px solid var(--warnline);border-radius:8px;padding:8px 12px;margin:0 0 12px}
.muted{color:var(--muted)}
form.filters{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:end;margin:0 0 12px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--soft);gap:3px}
form.filters select{font:inherit;padding:5px 8px;border:1px solid #d0d5dd;border-radius:6px;background:#fff;
min-width:170px;max-width:300px}
form.filters button{font:inherit;padding:5px 14px;border:1px solid #d0d5dd;border-radius:6px;background:#fff;
cursor:pointer}
form.filters output{color:var(--soft);padding-bottom:6px}
.scroll{overflow:auto;max-height:720px;border:1px solid var(--line);border-radius:8px}
table{border-collapse:separate;border-spacing:0;width:100%;font-size:13px}
caption{text-align:left;padding:0 0 8px;color:var(--soft)}
th,td{padding:6px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
thead th{position:sticky;top:0;background:#f2f4f7;z-index:1;font-weight:650;white-space:nowrap;
border-bottom:1px solid #d0d5dd}
tbody tr:nth-child(even){background:#fcfcfd}
tbody tr:hover{background:#f0f5ff}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
#issues td:nth-child(-n+2){text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
#issues td:nth-child(3){overflow-wrap:break-word;max-width:220px}
#issues td:nth-child(4){white-space:nowrap;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font-size:12px}
#issues td:nth-child(6){font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
unicode-bidi:plaintext;min-width:120px;overflow-wrap:break-word;max-width:260px}
#issues td:nth-child(7){color:var(--soft);min-width:320px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.sev{display:inline-block;white-space:nowrap;font-weight:650;font-size:12px;padding:1px 8px;border-radius:999px;
border:1px solid}
.sev.e{color:var(--err);background:var(--errbg);border-color:var(--errline)}
.sev.w{color:var(--warn);background:var(--warnbg);border-color:var(--warnline)}
.x{color:#6941c6;background:#f4f3ff;border:1px solid #d9d6fe;border-radius:3px;padding:0 2px;margin:0 1px;
font-size:11px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.empty{color:var(--muted);font-style:italic;font-family:system-ui,sans-serif}
table.rec td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
unicode-bidi:plaintext;max-width:280px;overflow-wrap:break-word}
table.rec td.bad{background:var(--errbg);outline:2px solid var(--err);outline-offset:-2px;font-weight:650}
table.rec td.wbad{background:var(--warnbg);outline:2px dashed var(--warnbar);outline-offset:-2px}
table.rec td.bad::before{content:"\\2716\\00a0";color:var(--err)}
table.rec td.wbad::before{content:"\\25B2\\00a0";color:var(--warn)}
table.rec th.bad{color:var(--err)}
table.rec td.codes{font-family:system-ui,sans-serif;white-space:nowrap}
a{color:var(--accent)}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media print{
body{background:#fff;font-size:11px}
.wrap{max-width:none;padding:0}
section{box-shadow:none;break-inside:auto;border-color:#bbb}
.charts section,.stats{break-inside:avoid}
form.filters{display:none}
.scroll{overflow:visible;max-height:none;border:0}
thead th{position:static}
thead{display:table-header-group}
tr{break-inside:avoid}
tbody tr[hidden]{display:table-row}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit;text-decoration:none}
}
"""

# Fills the filter lists' behaviour: it runs only because its hash is in the page's policy.
SCRIPT = """
(function(){
var f=document.getElementById("filters");if(!f)return;
var rows=document.getElementById("issues").tBodies[0].rows,out=document.getElementById("shown");
function apply(){var c=f.elements.code.value,d=f.elements.field.value,s=f.elements.severity.value,k=0;
for(var i=0;i<rows.length;i++){var r=rows[i],ok=(!c||r.getAttribute("data-c")===c)&&
(!d||r.getAttribute("data-f")===d)&&(!s||r.getAttribute("data-s")===s);if(r.hidden===ok)r.hidden=!ok;if(ok)k++;}
out.textContent=k.toLocaleString("en-US")+" of "+rows.length.toLocaleString("en-US")+" listed issues shown";}
f.addEventListener("change",apply);
f.addEventListener("submit",function(e){e.preventDefault();apply();});
f.addEventListener("reset",function(){setTimeout(apply,0);});
f.hidden=false;
if(f.elements.code.value||f.elements.field.value||f.elements.severity.value)apply();
else out.textContent=rows.length.toLocaleString("en-US")+" listed issues";
})();
"""
