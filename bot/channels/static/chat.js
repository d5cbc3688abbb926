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

async function send(body, shown) {
  if (shown) addMessage(shown, "user");
  try {
    const res = await fetch("/api/messages", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const data = await res.json();
    if (data.error) { addMessage(data.error, "bot"); return; }
    for (const r of data.replies) {
      if (r.text) addMessage(r.text, "bot");
      addButtons(r.buttons || []);
    }
  } catch (e) {
    addMessage("Không kết nối được. Bạn vui lòng thử lại sau.", "bot");
  }
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
send({text: "xin chào"}, null);
