/**
 * The status page: the vendor's main screen in a browser, one self-contained document (inline
 * CSS and script, no fonts, images or CDN). It fills itself from the server-sent events of
 * /api/stream: 'snapshot' (status + active alerts, every 500 ms) and 'line' (each log line).
 * Every state is shown in words and in colour, never colour alone.
 */
const CSS = `
*{box-sizing:border-box}body{margin:0;font:18px/1.4 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;background:#10151c;color:#e8edf2}
header{display:flex;justify-content:space-between;align-items:center;padding:10px 18px;background:#1c2530}
h1{font-size:22px;margin:0}#live{font-size:15px;padding:3px 10px;border-radius:4px}
.banner{margin:12px 18px;padding:14px 18px;border-radius:6px;font-size:34px;font-weight:700;border:3px solid}
.ok{background:#12391f;border-color:#2fbf5b;color:#b9f5c9}.warn{background:#3d3210;border-color:#f0b429;color:#ffe6a3}
.bad{background:#4a1414;border-color:#ff4d4d;color:#ffd0d0}.idle{background:#2a3038;border-color:#7b8794;color:#d6dde4}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:8px;margin:0 18px}
.cell{background:#1c2530;padding:8px 12px;border-radius:6px}.cell b{display:block;font-size:14px;color:#9fb0c2;font-weight:400}
.cell span{font-size:26px;font-weight:700;word-break:break-all}
section{margin:14px 18px}h2{font-size:18px;margin:0 0 6px;color:#9fb0c2}
.alert{padding:8px 12px;margin-bottom:6px;border-left:8px solid;border-radius:4px}
.alert.critical{background:#4a1414;border-color:#ff4d4d}.alert.warning{background:#3d3210;border-color:#f0b429}.alert.info{background:#15304a;border-color:#4da3ff}
.alert .sev{font-weight:700;margin-right:8px}.alert .todo{font-size:15px;color:#d6dde4}
#log{font:15px/1.35 ui-monospace,"Noto Sans Mono CJK SC",monospace;background:#0b0f14;padding:8px 12px;border-radius:6px;max-height:40vh;overflow:auto;white-space:pre-wrap}
.l-warn{color:#ffd166}.l-error{color:#ff7b7b}`;

const SCRIPT = `
const $=(id)=>document.getElementById(id);
const cst=(t)=>new Date(t+288e5).toISOString().slice(11,19);
const SEV={critical:'严重',warning:'警告',info:'提示'};
function text(el,v){if(el.textContent!==String(v))el.textContent=String(v);}
function linkClass(w){return w==='正常'?'ok':w==='正在连接'?'warn':w==='中断'?'bad':'idle';}
function addLine(l){const d=document.createElement('div');d.className='l-'+l.level;
d.textContent=cst(l.time)+(l.code?' ['+l.code+']':'')+' '+l.text;const log=$('log');log.appendChild(d);
while(log.childNodes.length>300)log.removeChild(log.firstChild);log.scrollTop=log.scrollHeight;}
function keyText(s){if(s.ekey)return (s.ekey.present===false?'Ekey 未插入':s.ekey.present?'Ekey 已插入':'Ekey 未知')+(s.ekey.failures?' (故障 '+s.ekey.failures+' 次)':'');
if(s.soft)return '软加密 第 '+s.soft.day+'/'+s.soft.of+' 个交易日, 剩余 '+s.soft.remaining;
return s.tlsMode==='soft'?'软加密 (未登录)':s.tlsMode==='ekey'?'Ekey 未知':'证书文件';}
function render(m){const s=m.status;
text($('station'),s.station);text($('server'),s.server||'-');text($('units'),s.units.join(', '));
for(const k of ['returns','pending','sent','accepted','rejected'])text($(k),s[k]);
text($('market'),s.marketState);text($('notice'),s.notice||'(无)');
const b=$('link');b.className='banner '+linkClass(s.linkState);
text(b,'通信状态: '+s.linkState+(s.holds.length?'  ·  暂停发送 ('+s.holds.join(', ')+')':''));
text($('key'),keyText(s));
text($('clock'),s.clock?s.clock.state+(s.clock.offsetMs==null?'':' '+s.clock.offsetMs.toFixed(1)+' ms'):'未配置');
const a=$('alerts');a.replaceChildren();
if(!m.alerts.length){const d=document.createElement('div');d.className='alert info';d.textContent='无告警 (no active alerts)';a.appendChild(d);}
for(const x of m.alerts){const d=document.createElement('div');d.className='alert '+x.severity;
d.innerHTML='<div><span class="sev"></span><span class="w"></span></div><div class="todo"></div>';
d.querySelector('.sev').textContent=SEV[x.severity]+' '+x.code;
d.querySelector('.w').textContent=x.words+'  (since '+cst(Date.parse(x.since))+(x.count>1?', ×'+x.count:'')+')';
d.querySelector('.todo').textContent='处理: '+x.action;a.appendChild(d);}
document.body.dataset.updated=s.updatedAt;}
const es=new EventSource('api/stream');
es.addEventListener('snapshot',(e)=>{render(JSON.parse(e.data));const l=$('live');l.className='ok';l.textContent='实时 live';});
es.addEventListener('lines',(e)=>{$('log').replaceChildren();for(const l of JSON.parse(e.data))addLine(l);});
es.addEventListener('line',(e)=>addLine(JSON.parse(e.data)));
es.onerror=()=>{const l=$('live');l.className='bad';l.textContent='连接断开 (not live)';};`;

const cell = (id: string, label: string): string =>
  `<div class="cell"><b>${label}</b><span id="${id}">-</span></div>`;

export function renderStatusPage(): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>股转系统交易网关 nqgw</title><style>${CSS}</style></head>
<body><header><h1>股转系统交易网关 (nqgw)</h1><span id="live" class="idle">连接中 connecting</span></header>
<div id="link" class="banner idle">通信状态: 未知</div>
<div class="grid">
${cell('station', '小站号')}${cell('server', '通信服务器')}${cell('units', '交易单元')}${cell('returns', '即时回报')}
${cell('pending', '待发委托')}${cell('sent', '已发委托')}${cell('accepted', '成功委托')}${cell('rejected', '非法委托')}
${cell('market', '股市状态')}${cell('clock', '时钟')}${cell('key', '密钥 (Ekey)')}
</div>
<section><h2>特别提示</h2><div class="cell"><span id="notice">-</span></div></section>
<section><h2>告警 (alerts: what to do)</h2><div id="alerts"></div></section>
<section><h2>日志</h2><div id="log"></div></section>
<script>${SCRIPT}</script></body></html>
`;
}
