package schemas

import "unsafe"

// Access to Event fields by fieldID, for the table-driven code.

// view returns the Event field that holds string field f.
func (e *Event) view(f fieldID) *[]byte {
	switch f {
	case fEventID:
		return &e.EventID
	case fShopID:
		return &e.ShopID
	case fSessionID:
		return &e.SessionID
	case fBuyerID:
		return &e.BuyerID
	case fChannel:
		return &e.Channel
	case fTaskID:
		return &e.TaskID
	case fRobotID:
		return &e.RobotID
	case fIntent:
		return &e.Intent
	case fGroupID:
		return &e.GroupID
	case fAgentID:
		return &e.AgentID
	case fFromAgentID:
		return &e.FromAgentID
	case fContentType:
		return &e.ContentType
	case fOrderID:
		return &e.OrderID
	}
	panic("schemas: field " + f.String() + " is not a string field")
}

// viewOffset[f] is the offset in Event of string field f's []byte; the
// entries of other fields are unused (TestViewPtr checks the table).
var viewOffset = func() (o [numFields]uintptr) {
	var e Event
	for f := fieldID(0); f < numFields; f++ {
		if isStringField(f) {
			o[f] = uintptr(unsafe.Pointer(e.view(f))) - uintptr(unsafe.Pointer(&e))
		}
	}
	return o
}()

// isStringField says whether f is stored in a []byte field of Event.
func isStringField(f fieldID) bool {
	switch f {
	case fTS, fType, fOrigin, fSender, fText, fIsAd, fScore, fAmount, fVia, fStage:
		return false
	}
	return true
}

// viewPtr is view without the switch, for the decoder's hot path. The
// caller must know that f is a string field (its rule kind is kindString).
func (e *Event) viewPtr(f fieldID) *[]byte {
	return (*[]byte)(unsafe.Add(unsafe.Pointer(e), viewOffset[f]))
}

// setCode stores an enum field's code.
func (e *Event) setCode(f fieldID, code uint8) {
	switch f {
	case fType:
		e.Type = EventType(code)
	case fOrigin:
		e.Origin = Origin(code)
	case fSender:
		e.Sender = Sender(code)
	case fVia:
		e.Via = Via(code)
	case fStage:
		e.Stage = Stage(code)
	}
}

// setInt stores an integer field.
func (e *Event) setInt(f fieldID, n int64) {
	switch f {
	case fTS:
		e.TS = n
	case fScore:
		e.Score = int8(n)
	case fAmount:
		e.Amount = n
	}
}

// code returns an enum field's code, the inverse of setCode.
func (e *Event) code(f fieldID) uint8 {
	switch f {
	case fType:
		return uint8(e.Type)
	case fOrigin:
		return uint8(e.Origin)
	case fSender:
		return uint8(e.Sender)
	case fVia:
		return uint8(e.Via)
	case fStage:
		return uint8(e.Stage)
	}
	return 0
}
