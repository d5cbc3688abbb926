const log = document.getElementById("log");
const form = document.getElementById("form");
const input = document.getElementById("text");

function addMessage(text, who) {
  const div = document.createElement("div");
  div.className = "msg " + who;
  const match = /(^|\n)Nguồn: /.exec(text);
  const at = match ? match.index : -1;
  div.textContent = at >= 0 ? text.slice(0, at).trimEnd() : text;
  if (at >= 0) {
    const cite = document.createElement("span");
    cite.className = "cite";
    cite.textContent = text.slice(at).trim();
    div.appendChild(cite);
  }
  log.appendChild(div);
  div.scrollIntoView({block: "end"});
}

function addButtons(buttons) {
  if (!buttons.length) return;
  const row = document.createElement("div");
  row.className = "buttons";
  for (const b of buttons) {
    const el = document.createElement("button");
    el.type = "button";
    el.textContent = b.title;
    el.onclick = () => { row.remove(); send({payload: b.payload}, b.title); };
    row.appendChild(el);
  }
  log.appendChild(row);
}

// One key per message, repeated by a retry, so the server handles the message once.
function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function showReplies(replies) {
  for (const r of replies) {
    if (r.text) addMessage(r.text, "bot");
    addButtons(r.buttons || []);
  }
}

// A message kept while the assistant was busy: fetch its answer when it comes.
let polling = null;
function waitForReplies() {
  if (polling) return;
  let tries = 0;
  polling = setInterval(async () => {
    tries += 1;
    try {
      const res = await fetch("/api/replies", {cache: "no-store"});
      const data = await res.json();
      if (data.replies) showReplies(data.replies);
      if (data.pending === false || tries > 150) { clearInterval(polling); polling = null; }
    } catch (e) { /* offline for a moment: try again at the next tick */ }
  }, 4000);
}

async function post(body) {
  const res = await fetch("/api/messages", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return res.json();
}

async function send(body, shown) {
  if (shown) addMessage(shown, "user");
  body.key = newKey();
  let data;
  try {
    data = await post(body);
  } catch (e) {
    try {  // once more with the same key: if the first arrived, it is not handled twice
      await new Promise((done) => setTimeout(done, 2000));
      data = await post(body);
    } catch (e2) {
      addMessage("Không kết nối được. Bạn vui lòng thử lại sau.", "bot");
      return;
    }
  }
  if (data.error) { addMessage(data.error, "bot"); return; }
  showReplies(data.replies || []);
  if (data.pending) waitForReplies();
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send({text: text}, text);
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
});
// Answers that came in while the page was closed (a message kept while the assistant was busy).
async function checkWaiting() {
  try {
    const res = await fetch("/api/replies", {cache: "no-store"});
    const data = await res.json();
    if (data.replies) showReplies(data.replies);
    if (data.pending) waitForReplies();
  } catch (e) { /* nothing waiting, or offline: the greeting below still goes */ }
}

send({text: "xin chào"}, null).then(checkWaiting);
