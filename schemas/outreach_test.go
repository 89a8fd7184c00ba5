package schemas

import "testing"

// TestDecodeOutreach covers cs.outreach (SPEC §1) and the presale stage of
// cs.orders: the conditional fields and the new enums.
func TestDecodeOutreach(t *testing.T) {
	got, err := decode(t, TopicOutreach, obj(common, `"type":"accepted","buyer_id":"b1","agent_id":"a1","via":"auto"`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != TypeAccepted || string(got.BuyerID) != "b1" || string(got.AgentID) != "a1" || got.Via != ViaAuto {
		t.Errorf("accepted: %+v", got)
	}
	got, err = decode(t, TopicOrders, obj(common, `"type":"paid","order_id":"o1","buyer_id":"b1","amount":5,"stage":"final"`))
	if err != nil || got.Stage != StageFinal {
		t.Errorf("paid final: %+v, %v", got, err)
	}
	got, err = decode(t, TopicOutreach, obj(common, `"type":"visited","buyer_id":"b1"`))
	if err != nil || got.Type != TypeVisited {
		t.Errorf("visited without agent: %+v, %v", got, err)
	}
	for _, tt := range []errCase{
		{"accepted without agent", TopicOutreach, obj(common, `"type":"accepted","buyer_id":"b1"`), ReasonMissingField, "agent_id"},
		{"unsubscribed without agent", TopicOutreach, obj(common, `"type":"unsubscribed","buyer_id":"b1"`), ReasonMissingField, "agent_id"},
		{"read without session", TopicOutreach, obj(common, `"type":"read","buyer_id":"b1"`), ReasonMissingField, "session_id"},
		{"no buyer", TopicOutreach, obj(common, `"type":"visited"`), ReasonMissingField, "buyer_id"},
		{"unknown type", TopicOutreach, obj(common, `"type":"liked","buyer_id":"b1"`), ReasonUnknownEnum, "type"},
		{"unknown via", TopicOutreach, obj(common, `"type":"accepted","buyer_id":"b1","agent_id":"a","via":"robot"`), ReasonUnknownEnum, "via"},
		{"unknown stage", TopicOrders, obj(common, `"type":"paid","order_id":"o1","buyer_id":"b1","amount":5,"stage":"third"`), ReasonUnknownEnum, "stage"},
	} {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, NewDecoder(), b(key), tt) })
	}
}
