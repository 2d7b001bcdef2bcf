// The message every baseline sends: the wire shape of DESIGN.md. The id has
// a nanoid's 21 characters, so the bytes cloned are the same as in a space,
// but costs no random numbers (nanoid has its own figure).
const ID_WIDTH = 21;

export function makeMessage(n, from, to) {
  return {
    meta: { id: String(n).padStart(ID_WIDTH, "0") },
    from,
    to,
    action: { name: "add", args: { n } },
  };
}
