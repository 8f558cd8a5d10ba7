"""The transparency log as use cases: keys (:mod:`.keys`), the tree grown and a checkpoint
signed with every journaled write (:mod:`.log`), the state root (:mod:`.state`), what a
server or ``log publish`` hands out (:mod:`.reader`), verification (:mod:`.verify`), mirrors
(:mod:`.mirror`) and witnesses (:mod:`.witness`)."""
