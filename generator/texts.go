package generator

import (
	"bytes"
	"encoding/json"
)

// Message texts, pre-encoded once as JSON string literals so that emitting a
// message is a plain append. Index 0 of texts is unused (no text).
var texts = [][]byte{nil}

// textSet is a range of texts to draw from.
type textSet struct{ first, n uint16 }

func addTexts(ss ...string) textSet {
	set := textSet{first: uint16(len(texts)), n: uint16(len(ss))}
	for _, s := range ss {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep 【】<> readable in the samples
		if err := enc.Encode(s); err != nil {
			panic(err)
		}
		texts = append(texts, bytes.TrimRight(buf.Bytes(), "\n"))
	}
	return set
}

func (r *rng) text(s textSet) uint16 { return s.first + uint16(r.intn(int(s.n))) }

var (
	txtBuyerPreSales = addTexts("在吗", "这款有现货吗？", "什么时候发货", "可以便宜点吗", "有优惠券吗",
		"尺码怎么选", "身高165体重50穿什么码", "这个颜色还有吗", "包邮吗", "双11有活动吗",
		"和另一款有什么区别", "能开发票吗", "今天下单明天能到吗", "赠品还有吗")
	txtBuyerAfterSales = addTexts("我的快递到哪了", "怎么还没发货", "我要退货", "收到的东西坏了",
		"可以换个颜色吗", "退款什么时候到账", "发错货了", "怎么申请售后", "少发了一件", "快递显示签收了但我没收到")
	txtBuyerShort    = addTexts("好的", "嗯嗯", "？", "人呢", "在吗？", "那我再看看", "行吧", "麻烦快点")
	txtBuyerThanks   = addTexts("谢谢", "好的谢谢", "OK了，谢谢亲", "明白了")
	txtBuyerAskHuman = addTexts("转人工", "人工客服", "我要找人工", "人工")
	txtBuyerStray    = addTexts("还在吗？", "刚才的问题还没解决", "你好")
	txtRobotGreeting = addTexts("您好，我是智能助手小蜜，请问有什么可以帮您？", "亲，欢迎光临本店，有什么可以帮您的吗？")
	txtRobotAnswer   = addTexts("亲，这款商品有现货，下单后48小时内发货哦", "您可以在【我的订单】查看物流信息",
		"亲，尺码建议参考详情页尺码表哦", "店铺满199包邮哦", "退货请在订单页点击【申请售后】", "抱歉，小蜜没有理解您的问题，换个说法试试？")
	txtRobotCall = addTexts("您好，这里是旗舰店客服，您购物车里的商品今天有专属优惠，请问方便了解一下吗？",
		"好的，优惠券稍后发到您的账户，三天内有效", "请问您对哪一款比较感兴趣呢？", "打扰您了，祝您生活愉快",
		"您好，请问能听到吗？", "好的，那我给您登记一下")
	txtBuyerCall     = addTexts("喂？", "什么优惠", "不需要，谢谢", "可以，发我看看", "多少钱", "我在忙", "上次那件还有吗")
	txtAgentGreeting = addTexts("您好，我是客服小美，很高兴为您服务", "亲，在的，请问有什么可以帮您？",
		"您好，请稍等，马上为您查询", "亲，久等了，我来为您处理")
	txtAgentReply = addTexts("亲，这款目前有现货的哦", "下单后48小时内发货", "建议您选M码", "已经帮您备注优先发货",
		"可以的亲，领取店铺券立减20元", "退货申请已经帮您提交了", "物流显示明天送达", "给您补发一份，非常抱歉",
		"亲，这个价格已经是活动价了", "已为您登记，请留意短信通知", "这边帮您申请了一张无门槛券", "亲，换货需要先寄回哦")
	txtAgentClosing   = addTexts("不客气，有问题随时联系哦", "祝您生活愉快~", "感谢您的耐心，再见")
	txtAgentProactive = addTexts("亲，您浏览的商品今天有优惠哦", "您的订单还未付款，需要帮忙吗？",
		"亲，您购物车里的商品降价了", "您好，上次咨询的商品已经到货了")
	txtAgentOneLiner = addTexts("您好，请问还有什么可以帮您？", "亲，还在吗？", "您好，我是客服小美")
	txtSupervisor    = addTexts("我是客服主管，这个问题我来为您跟进", "主管已介入，请您放心")
	txtAds           = addTexts("【双11狂欢】全场满300减50，点击领取>>", "新品上市，关注店铺领10元无门槛券", "直播间今晚8点秒杀，不见不散")
	txtEmoji         = addTexts("[微笑]", "[捂脸]", "[OK]", "[玫瑰]")
	txtSystemEnter   = addTexts("买家已进入会话")
	txtSystemQueue   = addTexts("正在为您转接人工客服，请稍候")
	txtSystemAssign  = addTexts("人工客服已接入")
	txtSystemMove    = addTexts("会话已转接给其他客服")
	txtSystemClosed  = addTexts("本次会话已结束")
)

// Content types (content_type), each pre-encoded with its field name.
const (
	contentNone = iota
	contentText
	contentImage
	contentCard
	contentEmoji
	contentVoice
)

var contentJSON = [...]string{"", `,"content_type":"text"`, `,"content_type":"image"`,
	`,"content_type":"card"`, `,"content_type":"emoji"`, `,"content_type":"voice"`}
